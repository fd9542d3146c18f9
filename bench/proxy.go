package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crmgate/crmgate/bench/bareproxy"
)

// Proxy is the bare reverse proxy (bench/bareproxy) running inside the
// bench process: a reference beside ProxyProcess, which is the floor the
// targets compare with. In here it shares the Go runtime of the load
// generator and the upstream, so it is woken without crossing a process
// boundary, which no deployed proxy or gateway is.
type Proxy struct {
	srv *http.Server
	URL string
}

// NewProxy starts the in-process bare proxy on a loopback port, keeping up
// to idleConns idle connections to the upstream.
func NewProxy(upstreamURL string, idleConns int) (*Proxy, error) {
	target, err := url.Parse(upstreamURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: bareproxy.Handler(target, idleConns, nil), ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { _ = p.srv.Close() }

// ProxyProcess is bench/cmd/bareproxy running as its own process, started
// like the gateway: the floor of a gateway hop.
type ProxyProcess struct {
	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
	URL      string
}

// Pid is the proxy process's id.
func (p *ProxyProcess) Pid() int { return p.cmd.Process.Pid }

// StartProxyProcess starts the bareproxy binary bin in front of
// upstreamURL and waits until it listens.
func StartProxyProcess(ctx context.Context, bin, upstreamURL string, idleConns int) (*ProxyProcess, error) {
	cmd := exec.Command(bin, "-upstream", upstreamURL, "-idle", strconv.Itoa(idleConns)) //nolint:gosec // the binary this harness just built
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr // start-up failures and proxy errors (a 502's cause)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &ProxyProcess{cmd: cmd, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		// Wait only after the read: it closes the pipe.
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
		_ = cmd.Wait()
		close(p.exited)
	}()
	select {
	case line := <-lines:
		u, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			p.Stop()
			return nil, fmt.Errorf("bare proxy process: unexpected first line %q (its stderr is above)", line)
		}
		p.URL = u
		return p, nil
	case <-time.After(30 * time.Second):
		p.Stop()
		return nil, errors.New("bare proxy process did not start within 30s")
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
}

// Stop ends the proxy process (SIGTERM, then SIGKILL after 5s).
func (p *ProxyProcess) Stop() {
	p.stopOnce.Do(func() { terminate(p.cmd, p.exited, 5*time.Second) })
}
