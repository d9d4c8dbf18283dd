// Command phonegate is an Envoy ext_authz server that stops fake and
// throw-away phone numbers at the door of a signup API.
//
//	phonegate serve   [--policy PATH] [--grpc-addr ADDR] [--http-addr ADDR]
//	phonegate lookup  [--region XX] [--ip ADDR] [--format json|text] [NUMBER...]
//	phonegate lint    PATH...
//	phonegate version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
