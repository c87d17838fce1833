package main

// confirmVerbs drive payment confirmations.
func confirmVerbs() map[string]verb {
	return map[string]verb{
		"confirm":       {"ask a customer to confirm a payment by SMS; --wait follows it to the answer", runConfirm},
		"confirmations": {"list payment confirmations and their states", runConfirmations},
	}
}
