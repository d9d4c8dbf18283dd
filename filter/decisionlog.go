package filter

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendDecisionJSON appends the decision line logDecision would have slog's
// JSON handler write: the same keys in the same order, one JSON object and
// a newline. It holds no raw number (field paths are written as walk.go
// spells them, the number only as its keyed hash).
func appendDecisionJSON(b []byte, now time.Time, v *verdict, took time.Duration) []byte {
	d, dryRun := v.decision, v.route.DryRun
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"check"`...)
	b = appendJSONField(b, "decision_id", v.id)
	b = appendJSONField(b, "route", d.Route)
	b = appendJSONField(b, "policy", d.Policy)
	b = appendJSONField(b, "decision", string(d.Action))
	b = appendJSONField(b, "reason", string(d.Reason))
	b = append(b, `,"numbers":`...)
	b = strconv.AppendInt(b, int64(d.Numbers), 10)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, took.Microseconds(), 10)
	if d.Rule != "" {
		b = appendJSONField(b, "rule", d.Rule)
	}
	if dryRun {
		b = append(b, `,"dry_run":true`...)
		b = appendJSONField(b, "enforced", string(enforced(d.Action, dryRun)))
	}
	if n := d.Number; n != nil {
		b = appendJSONField(b, "field", n.Field)
		b = appendJSONField(b, "number_hash", v.hash)
		b = appendJSONField(b, "confidence", string(n.Insight.Confidence))
		b = append(b, `,"risk_score":`...)
		b = strconv.AppendInt(b, int64(n.Insight.RiskScore), 10)
	}
	return append(b, "}\n"...)
}

// appendJSONField appends ,"key":"value" with value escaped as JSON (and
// invalid UTF-8 as U+FFFD, as encoding/json and slog write it).
func appendJSONField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	const hex = "0123456789abcdef"
	for i := 0; i < len(value); {
		c := value[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(value[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, value[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
