package main

// eventVerbs cover the event log and the data lifecycle.
func eventVerbs() map[string]verb {
	return map[string]verb{}
}
