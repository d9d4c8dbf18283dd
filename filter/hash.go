package filter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// numberHash is a keyed hash of a number for logs and metadata: stable for
// one key, so the same number can be followed across lines, and useless for
// recovering the number without the key. The E.164 form is hashed when there
// is one, so "+44 7400 123456" and "07400123456" hash alike.
func numberHash(key []byte, e164, input string) string {
	m := hmac.New(sha256.New, key)
	if e164 != "" {
		m.Write([]byte(e164))
	} else {
		m.Write([]byte(input))
	}
	return hex.EncodeToString(m.Sum(nil)[:8])
}
