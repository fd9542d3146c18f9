package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/testenv"
)

// redisClient connects to the test Redis and deletes the schema keys of
// the given connections when the test ends.
func redisClient(t testing.TB, connIDs ...*string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opts)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, id := range connIDs {
			if *id == "" {
				continue
			}
			iter := rc.Scan(ctx, 0, "crmgate:schema:"+*id+":*", 100).Iterator()
			for iter.Next(ctx) {
				rc.Del(ctx, iter.Val())
			}
		}
		_ = rc.Close()
	})
	return rc
}

func TestSchemaCache(t *testing.T) {
	t.Parallel()
	for _, variant := range []struct {
		name string
		opts gwOptions
	}{
		{"memory", gwOptions{}},
		{"redis", gwOptions{redis: true}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			t.Parallel()
			forEachTransport(t, func(t *testing.T, tr string) {
				var connID string
				var rc *redis.Client
				if variant.opts.redis {
					rc = redisClient(t, &connID)
				}
				e := newEnv(t, variant.opts, 2)
				connID = e.tn.connID
				c := e.client(t, tr)
				f := e.f

				// Warm: the first schema read calls GHL.
				must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t)
				must(c.ListObjects(&crmv1.ListObjectsRequest{}))(t)
				if f.schemaCalls() == 0 {
					t.Fatalf("the first schema read did not reach GHL")
				}
				if rc != nil {
					// The key layout is the gateway's business; it starts
					// with crmgate:schema:<connection id>: and names pet.
					found := false
					iter := rc.Scan(context.Background(), 0, "crmgate:schema:"+connID+":*", 100).Iterator()
					for iter.Next(context.Background()) {
						found = found || strings.HasSuffix(iter.Val(), "schema:pet")
					}
					if err := iter.Err(); err != nil || !found {
						t.Errorf("schema of pet not in Redis under crmgate:schema:%s:* (err=%v)", connID, err)
					}
				}

				// Repeats cost no schema call.
				before := f.schemaCalls()
				createsBefore := f.RequestCount(routeCreateRecord)
				for range 3 {
					must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t)
					must(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "pet"}))(t)
					must(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "species"}))(t)
					must(c.ListObjects(&crmv1.ListObjectsRequest{Type: "custom"}))(t)
				}
				for range 2 {
					must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
						Properties: st(t, map[string]any{"name": "Cached", "age": 2, "species": "cat"}),
					}}))(t)
				}
				wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
					Properties: st(t, map[string]any{"name": "Cached", "age": "two"}),
				}})), codes.InvalidArgument)
				if d := f.schemaCalls() - before; d != 0 {
					t.Errorf("repeated schema reads and validated creates cost %d GHL schema calls, want 0", d)
				}
				if d := f.RequestCount(routeCreateRecord) - createsBefore; d != 2 {
					t.Errorf("%d record creates reached GHL, want 2", d)
				}

				// A property created through the gateway invalidates the schema.
				must(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{
					Id: "color", Label: "Color", Type: "picklist", Options: []*crmv1.Option{{Label: "Brown", Value: "brown"}},
				}}))(t)
				beforeGet := f.RequestCount(routeGetObject)
				p := must(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"}))(t).GetProperty()
				if p.GetType() != "picklist" {
					t.Errorf("new property = %v", p)
				}
				if f.RequestCount(routeGetObject) == beforeGet {
					t.Errorf("the schema read after a property create did not call GHL (cache not invalidated)")
				}
				must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
					Properties: st(t, map[string]any{"name": "Brownie", "color": "brown"}),
				}}))(t)
				// ... and is cached again afterwards.
				before = f.schemaCalls()
				must(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "pet"}))(t)
				if d := f.schemaCalls() - before; d != 0 {
					t.Errorf("schema read after re-caching cost %d calls", d)
				}

				// Property updates and deletes invalidate too.
				must(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "color", Property: &crmv1.Property{
					Options: []*crmv1.Option{{Label: "Brown", Value: "brown"}, {Label: "Grey", Value: "grey"}},
				}}))(t)
				must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
					Properties: st(t, map[string]any{"name": "Smoky", "color": "grey"}),
				}}))(t)
				must(c.DeleteProperty(&crmv1.DeletePropertyRequest{ObjectName: "pet", PropertyId: "color"}))(t)
				err := wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
					Properties: st(t, map[string]any{"name": "Ghost", "color": "grey"}),
				}})), codes.InvalidArgument)
				if !err.hasField("record.properties.color") || err.origin != "gateway" {
					t.Errorf("record with deleted property: %v", err)
				}
				// Object updates invalidate the object and the list.
				must(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{Description: "changed"}}))(t)
				if d := must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t).GetObject().GetDescription(); d != "changed" {
					t.Errorf("get after update: description %q", d)
				}
				for _, o := range must(c.ListObjects(&crmv1.ListObjectsRequest{Type: "custom"}))(t).GetItems() {
					if o.GetName() == "pet" && o.GetDescription() != "changed" {
						t.Errorf("list after update: description %q (stale object list)", o.GetDescription())
					}
				}
			})
		})
	}
}

// TestSchemaCacheSharedByReplicas runs two gateways on one store and one
// Redis: a schema read by one is served to the other from Redis, and an
// invalidation by one is seen by the other.
func TestSchemaCacheSharedByReplicas(t *testing.T) {
	t.Parallel()
	var connID string
	redisClient(t, &connID)
	f := newFake(t)
	g1 := newGateway(t, gwOptions{redis: true})
	tn := g1.newTenant(t, f, "org-replicas", 1)
	connID = tn.connID
	g2 := newGateway(t, gwOptions{redis: true, databaseURL: g1.cfg.DatabaseURL, encryptionKey: g1.cfg.EncryptionKey})
	c1 := g1.client(t, REST, tn.key, tn.connID)
	c2 := g2.client(t, GRPC, tn.key, tn.connID)
	g2.addSecret(tn.key, "API key")
	g2.addSecret(tn.token, "token")

	must(c1.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t)
	before := f.schemaCalls()
	must(c2.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t)
	must(c2.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "Shared"})}}))(t)
	if d := f.schemaCalls() - before; d != 0 {
		t.Errorf("the second replica made %d schema calls for a schema the first cached in Redis", d)
	}
	must(c1.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "color", Label: "Color", Type: "text"}}))(t)
	// Invalidations reach the other replica's near cache through Redis
	// pub/sub, asynchronously: allow it a moment.
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := c2.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second replica does not see a property created through the first after 2s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(c2.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "Shared", "color": "red"})}}))(t)
}

// holdingProxy forwards to a fake GHL; when armed, it fetches the answer of
// the next request matching match at once, then holds it back until
// released, so a test can interleave other calls with a slow read.
type holdingProxy struct {
	target  string
	match   func(*http.Request) bool
	armed   atomic.Bool
	held    chan struct{}
	release chan struct{}
}

func newHoldingProxy(t testing.TB, target string, match func(*http.Request) bool) (*holdingProxy, string) {
	p := &holdingProxy{target: target, match: match, held: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *holdingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hold := p.match(r) && p.armed.CompareAndSwap(true, false)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if hold {
		close(p.held)
		<-p.release
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// TestSchemaCacheInvalidationRace: a schema read that started before a
// property create must not put the old schema back into the cache after
// the create's invalidation (the classic stale-set race): afterwards the
// new property must be visible.
func TestSchemaCacheInvalidationRace(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t)
		g := newGateway(t, gwOptions{})
		key := g.apiKey(t, "org-race")
		loc, tok := "locRace"+randHex(6), "pit-"+randHex(24)
		f.AddToken(tok, loc)
		f.SeedDemo(loc, 1)
		proxy, proxyURL := newHoldingProxy(t, f.URL, func(r *http.Request) bool {
			return r.Method == "GET" && r.URL.Path == "/objects/custom_objects.pet"
		})
		conn := g.createConnection(t, key, g.createConfig(t, key, proxyURL, ""), "cust", loc, tok)
		c := g.client(t, tr, key, conn)

		// A: a schema read whose GHL answer (without color) is held back.
		proxy.armed.Store(true)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"}) // NotFound: it read before B
		}()
		select {
		case <-proxy.held:
		case <-time.After(20 * time.Second):
			t.Fatal("the schema read never reached GHL")
		}
		// B: create the property (invalidates the cached schema).
		must(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "color", Label: "Color", Type: "text"}}))(t)
		// A completes with the schema it read before B.
		close(proxy.release)
		<-done

		// C: the property exists; the cache must not say otherwise.
		if _, err := c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"}); err != nil {
			t.Errorf("a schema read racing a property create cached the old schema after the invalidation: %v", err)
		}
		if _, err := c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "x", "color": "red"})}}); err != nil {
			t.Errorf("record with the new property refused by a stale cached schema: %v", err)
		}
	})
}
