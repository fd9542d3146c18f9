// Command bareproxy runs bench/bareproxy as its own process: the floor of
// a gateway hop that crmbench compares crmgate with, started the way the
// gateway is (a separate process with its own Go runtime, on the same
// CPUs). It listens on -addr, prints "listening on http://ADDR" on stdout
// once it accepts connections, and serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/crmgate/crmgate/bench/bareproxy"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
}

func run() error {
	upstream := flag.String("upstream", "", "URL of the upstream to proxy to (required)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	idle := flag.Int("idle", 128, "idle connections kept to the upstream")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return fmt.Errorf("-upstream %q: want an absolute URL", *upstream)
	}
	if *idle < 1 {
		return fmt.Errorf("-idle %d: want at least 1", *idle)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareproxy.Handler(target, *idle, log.New(os.Stderr, "bareproxy: ", log.LstdFlags|log.Lmicroseconds)), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
