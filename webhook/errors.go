package webhook

import "errors"

// ErrBadSecret is returned when a secret is not "whsec_" + base64.
var ErrBadSecret = errors.New("webhook: bad secret")
