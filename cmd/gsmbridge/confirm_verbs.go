package main

// confirmVerbs drive payment confirmations.
func confirmVerbs() map[string]verb {
	return map[string]verb{}
}
