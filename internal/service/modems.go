package service

import "github.com/gsmbridge/gsmbridge/api"

// The modem vocabulary lives in api; these names stay for the tests that
// read modems through the API until they move to the service's harness.
const (
	StateProbing    = api.ModemProbing
	StateReady      = api.ModemReady
	StateDegraded   = api.ModemDegraded
	StateResetting  = api.ModemResetting
	StateGone       = api.ModemGone
	StateSIMMissing = api.ModemSIMMissing
	StateSIMLocked  = api.ModemSIMLocked
	StateRegDenied  = api.ModemRegDenied
	StateNoService  = api.ModemNoService
)

// ModemStatus is the snapshot an owner keeps of its modem.
type ModemStatus = api.Modem

// Operator names a SIM's home network, from its IMSI.
type Operator = api.Operator

// ModemState is where a modem is in its life.
type ModemState = api.ModemState
