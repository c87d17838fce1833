package config

// ValidFleetHost reports whether name can be a fleet host's name, as
// fleet.host must be: the name stands in NATS subjects and KV keys, where
// a dot or a wildcard would name something else.
func ValidFleetHost(name string) bool { return fleetToken.MatchString(name) }
