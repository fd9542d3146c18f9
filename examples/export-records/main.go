// Command export-records exports every record of a custom object as JSON
// lines, through the crmgate Go client and StreamRecords. Against the demo
// gateway (go run ./cmd/gateway --demo, which prints the key and the
// connection id):
//
//	KEY=cgk_... CONN=conn_ghl_... go run ./examples/export-records -object pet > pets.jsonl
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/crmgate/crmgate/client"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "export-records:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "localhost:9090", "gateway gRPC address")
	object := flag.String("object", "pet", "custom object to export")
	pageSize := flag.Int("page-size", 100, "records per stream message (1-100)")
	tls := flag.Bool("tls", false, "use TLS (system roots)")
	flag.Parse()
	key, conn := os.Getenv("KEY"), os.Getenv("CONN")
	if key == "" || conn == "" {
		return errors.New("set KEY (API key) and CONN (connection id), as printed by go run ./cmd/gateway --demo")
	}
	c, err := client.Dial(*addr, client.Options{APIKey: key, ConnectionID: conn, Insecure: !*tls})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	enc := protojson.MarshalOptions{UseProtoNames: true}
	n := 0
	for rec, err := range c.Records(ctx, &crmv1.StreamRecordsRequest{ObjectName: *object, PageSize: int32(min(max(*pageSize, 1), 100))}) { //nolint:gosec // clamped to 1..100
		if err != nil {
			_ = out.Flush() // keep what was exported
			return fmt.Errorf("after %d records: %w", n, err)
		}
		b, err := enc.Marshal(rec)
		if err != nil {
			return err
		}
		if _, err := out.Write(append(b, '\n')); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			fmt.Fprintf(os.Stderr, "%d records\n", n)
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "exported %d records of %s\n", n, *object)
	return nil
}
