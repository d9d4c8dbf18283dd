package insight

import "github.com/nyaruka/phonenumbers/v2"

// LineType is libphonenumber's number type, in snake_case.
type LineType string

// The line types, as DESIGN.md names them.
const (
	FixedLine         LineType = "fixed_line"
	Mobile            LineType = "mobile"
	FixedLineOrMobile LineType = "fixed_line_or_mobile"
	TollFree          LineType = "toll_free"
	PremiumRate       LineType = "premium_rate"
	SharedCost        LineType = "shared_cost"
	VoIP              LineType = "voip"
	PersonalNumber    LineType = "personal_number"
	Pager             LineType = "pager"
	UAN               LineType = "uan"
	Voicemail         LineType = "voicemail"
	UnknownLine       LineType = "unknown"
)

// LineTypes lists every line type, in libphonenumber's order.
var LineTypes = []LineType{
	FixedLine, Mobile, FixedLineOrMobile, TollFree, PremiumRate, SharedCost,
	VoIP, PersonalNumber, Pager, UAN, Voicemail, UnknownLine,
}

// lineTypeOf maps libphonenumber's enum; the enum's values index LineTypes.
func lineTypeOf(t phonenumbers.PhoneNumberType) LineType {
	if int(t) < 0 || int(t) >= len(LineTypes) {
		return UnknownLine
	}
	return LineTypes[t]
}
