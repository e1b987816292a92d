package app

import "errors"

// ErrUnavailable marks a failure of the database itself rather than of the
// request: the connection was refused, reset or timed out, the server went
// away, or a lock could not be had even after retrying. The store wraps such
// errors with it; the API answers 503 with Retry-After, and nothing of the
// attempt was committed unless the commit itself was lost in flight.
var ErrUnavailable = errors.New("the database is unavailable")

// ErrCodeTaken reports a problem code already in use: an import kept codes
// above the year's counter. Registration takes another code and tries again.
var ErrCodeTaken = errors.New("the problem code is taken")
