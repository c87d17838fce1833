package config

import (
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// How long an API request that waits on the network may take. The HTTP
// server drops the connection of an answer not written within its write
// timeout, so a request that holds a USSD exchange is bounded from that
// timeout down, and ussd.reply_timeout must leave room for it.
const (
	// HTTPWriteTimeout is the HTTP server's write timeout (httpapi's
	// ServerWriteTimeout).
	HTTPWriteTimeout = 90 * time.Second
	// USSDCommandTime is what one USSD exchange adds to its wait for the
	// network: the AT commands around it, through the modem's owner.
	USSDCommandTime = 15 * time.Second
	// USSDEndTime bounds ending a session on the modem (AT+CUSD=2) after
	// an exchange that failed or left a menu open.
	USSDEndTime = 10 * time.Second
	// USSDCheckBudget bounds a balance check asked through the API: past
	// it the check is abandoned, the session ended on the modem, and the
	// request answered, with a few seconds of the write timeout to spare
	// (TestABalanceCheckFitsTheWriteTimeout). Clients know it too.
	USSDCheckBudget = api.BalanceCheckWithin
	// MaxUSSDReplyTimeout is the longest ussd.reply_timeout whose exchange
	// fits the check budget.
	MaxUSSDReplyTimeout = USSDCheckBudget - USSDCommandTime
)
