// Package client is the Go client of gsmbridge's HTTP API: the CLI, the
// benchmark, the tests and a payment core written in Go talk to the daemon
// through it, with the request and answer types of package api.
//
// A Client is safe for concurrent use. Every method takes a context; its
// deadline bounds the call, and WithTimeout bounds each request on top (a
// long poll gets its wait added). An error answer of the daemon is an
// *Error carrying the HTTP status and the daemon's code, field and message;
// anything else (the daemon not running, a timeout) is a transport error
// that wraps its cause, so errors.Is(err, syscall.ECONNREFUSED) and
// errors.Is(err, context.DeadlineExceeded) work.
//
// Paying through a customer's confirmation:
//
//	c, _ := client.New("https://gsmbridge.lan:8780", client.WithToken(token), client.WithTLSFiles(ca, cert, key))
//	conf, err := c.Confirmations.Create(ctx, api.NewConfirmation{ID: paymentID, Phone: phone, Txn: txn, Amount: "1500.00", Currency: "RUB"})
//	conf, err = c.Confirmations.Await(ctx, conf)  // long polls until confirmed, cancelled, expired or failed
package client
