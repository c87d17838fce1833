package main

// eventVerbs cover the event log and the data lifecycle.
func eventVerbs() map[string]verb {
	return map[string]verb{
		"events": {"print the event log; --follow waits for new events", runEvents},
		"backup": {"download a consistent copy of the running daemon's database", runBackup},
	}
}
