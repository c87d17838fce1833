package main

// ussdVerbs are for field testers: balances, USSD codes, USB scan.
func ussdVerbs() map[string]verb {
	return map[string]verb{
		"balance": {"SIM balances from the daemon, or straight from a modem with --port", runBalance},
		"ussd":    {"send a USSD code through the daemon (--modem) or straight to a modem (--port)", runUSSD},
		"scan":    {"list the USB modems on this machine, who holds their ports, and what to fix", runScan},
	}
}
