package insight_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/phonegate/phonegate/insight"
)

func ExampleEngine_Lookup() {
	engine := insight.New(insight.Options{})
	in := engine.Lookup("07400 123456", "GB")
	fmt.Println(in.Valid, in.E164, in.Country.Name, in.LineType, in.Carrier.Name)
	fmt.Println(in.Confidence, in.ConfidenceScore, in.RiskScore)

	voip := engine.Lookup("+44 56 1234 5678", "")
	fmt.Println(voip.LineType, voip.Confidence, voip.RiskScore, voip.Warnings[0].Risk)
	// Output:
	// true +447400123456 United Kingdom mobile Three
	// verified 0.95 5
	// voip low 80 VOIP_NUMBER_DETECTED
}

func ExampleEngine_ForRequest() {
	engine := insight.New(insight.Options{})
	number := engine.Lookup("+447400123456", "") // cached: the number's facts
	velocity := insight.NewVelocityStore(insight.VelocityConfig{})
	// This request's client address and the number's velocity go on top.
	client := netip.MustParseAddr("8.8.8.8")
	v := velocity.Observe(context.Background(), insight.Sighting{Number: number.E164, Country: number.Country.ISO2, Addr: client, At: time.Now()})
	in := engine.ForRequest(number, client, &v)
	fmt.Println(in.IP.Country, in.IP.Match, in.Velocity.Seen, in.RiskScore)
	fmt.Println(number.IP == nil, number.RiskScore) // the cached insight is untouched
	// Output:
	// US mismatch 1 20
	// true 5
}
