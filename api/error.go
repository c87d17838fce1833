package api

// Error is the error object of every error answer.
type Error struct {
	Code    string `json:"code"` // invalid_field, not_found, conflict, ...
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the request field at fault
	Scope   string `json:"scope,omitempty"` // the scope a token lacks (403 insufficient_scope)
}

// ErrorBody is the body of every error answer: {"error":{...}}. Some
// answers add the object the request was about (a 409 on cancelling a
// message carries the message).
type ErrorBody struct {
	Error Error `json:"error"`
}
