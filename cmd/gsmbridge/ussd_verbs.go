package main

// ussdVerbs are for field testers: balances, USSD codes, USB scan.
func ussdVerbs() map[string]verb {
	return map[string]verb{}
}
