// Package deploy holds the Kubernetes manifests (plain YAML, a
// kustomization) and their validation: every document is decoded strictly
// into the Kubernetes API's own Go types (unknown or misspelt fields, wrong
// types and bad quantities fail), and the properties the gateway relies on
// are checked (replicas, probes, resources, security context, shutdown
// timing against the gateway's configuration, PDB/HPA/Services selecting
// the Deployment). No cluster needed.
package deploy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/crmgate/crmgate/internal/app"
)

// kustomization is the subset of kustomize's file these manifests use;
// decoding is strict, so a new kustomize feature must be taught here.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// manifests are the decoded objects of the kustomization.
type manifests struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  []*corev1.ConfigMap
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
}

// render reads the kustomization in dir and returns its resources' text,
// each document separately, with its file name.
func render(dir string) (map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return nil, fmt.Errorf("kustomization.yaml: apiVersion/kind %s/%s", k.APIVersion, k.Kind)
	}
	files := map[string]string{}
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			return nil, fmt.Errorf("kustomization.yaml: resource %s: %w", r, err)
		}
		files[r] = string(b)
	}
	return files, nil
}

// decode strictly decodes every document into its Kubernetes type.
func decode(files map[string]string) (*manifests, error) {
	m := &manifests{}
	var errs []error
	names := map[string]bool{}
	for _, name := range slices.Sorted(mapKeys(files)) {
		for i, doc := range splitDocs(files[name]) {
			where := fmt.Sprintf("%s (document %d)", name, i+1)
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			key := meta.Kind + "/" + meta.Metadata.Name
			if meta.Metadata.Name == "" {
				errs = append(errs, fmt.Errorf("%s: %s without metadata.name", where, meta.Kind))
			} else if names[key] {
				errs = append(errs, fmt.Errorf("%s: %s defined twice", where, key))
			}
			names[key] = true
			var obj any
			switch meta.APIVersion + " " + meta.Kind {
			case "apps/v1 Deployment":
				d := &appsv1.Deployment{}
				m.deployments, obj = append(m.deployments, d), d
			case "v1 Service":
				s := &corev1.Service{}
				m.services, obj = append(m.services, s), s
			case "v1 ConfigMap":
				c := &corev1.ConfigMap{}
				m.configMaps, obj = append(m.configMaps, c), c
			case "policy/v1 PodDisruptionBudget":
				p := &policyv1.PodDisruptionBudget{}
				m.pdbs, obj = append(m.pdbs, p), p
			case "autoscaling/v2 HorizontalPodAutoscaler":
				h := &autoscalingv2.HorizontalPodAutoscaler{}
				m.hpas, obj = append(m.hpas, h), h
			default:
				errs = append(errs, fmt.Errorf("%s: unexpected %s %s (teach manifests_test.go about it)", where, meta.APIVersion, meta.Kind))
				continue
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", where, key, err))
			}
		}
	}
	return m, errors.Join(errs...)
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func splitDocs(s string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// check verifies what the gateway needs from its deployment.
func check(m *manifests) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(m.deployments) != 1 {
		return append(errs, fmt.Errorf("want exactly one Deployment, got %d", len(m.deployments)))
	}
	d := m.deployments[0]
	pod := d.Spec.Template
	podLabels := pod.Labels
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		fail("Deployment %s: want at least 2 replicas", d.Name)
	}
	if d.Spec.Selector == nil || !selects(d.Spec.Selector.MatchLabels, podLabels) {
		fail("Deployment %s: its selector does not select its pod template's labels", d.Name)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		fail("Deployment %s: want securityContext.runAsNonRoot: true", d.Name)
	}
	if len(pod.Spec.Containers) != 1 {
		return append(errs, fmt.Errorf("Deployment %s: want one container, got %d", d.Name, len(pod.Spec.Containers)))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, want := range []string{"http", "grpc"} {
		if ports[want] == 0 {
			fail("container %s: want a port named %s", c.Name, want)
		}
	}
	probe := func(what string, p *corev1.Probe, path string) {
		switch {
		case p == nil:
			fail("container %s: no %s", c.Name, what)
		case p.HTTPGet == nil || p.HTTPGet.Path != path || ports[p.HTTPGet.Port.String()] == 0:
			fail("container %s: %s must be an httpGet of %s on a named container port", c.Name, what, path)
		}
	}
	probe("readinessProbe", c.ReadinessProbe, "/readyz")
	probe("livenessProbe", c.LivenessProbe, "/healthz")
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[res]
		lim, hasLim := c.Resources.Limits[res]
		if !hasReq || !hasLim {
			fail("container %s: want %s request and limit", c.Name, res)
		} else if req.Cmp(lim) > 0 {
			fail("container %s: %s request %s above its limit %s", c.Name, res, req.String(), lim.String())
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		fail("container %s: want readOnlyRootFilesystem, no privilege escalation, capabilities dropped", c.Name)
	}

	// The gateway's configuration: the ConfigMap's file plus literal env.
	cfg, err := gatewayConfig(m, pod.Spec, c)
	if err != nil {
		fail("gateway configuration: %v", err)
	} else {
		need := cfg.ShutdownDelay + cfg.ShutdownGrace
		if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || float64(*g) <= need.Seconds() {
			fail("terminationGracePeriodSeconds must exceed shutdown_delay + shutdown_grace (%s)", need)
		}
		if !writableMount(c, cfg.DataDir) {
			fail("data_dir %s is not on a writable volume (the root filesystem is read-only)", cfg.DataDir)
		}
		if ports["http"] != 0 && !strings.HasSuffix(cfg.HTTPAddr, fmt.Sprintf(":%d", ports["http"])) {
			fail("http_addr %s does not listen on container port http (%d)", cfg.HTTPAddr, ports["http"])
		}
		if ports["grpc"] != 0 && !strings.HasSuffix(cfg.GRPCAddr, fmt.Sprintf(":%d", ports["grpc"])) {
			fail("grpc_addr %s does not listen on container port grpc (%d)", cfg.GRPCAddr, ports["grpc"])
		}
	}
	secretEnv, seen := map[string]bool{}, map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			fail("container %s: env %s is set twice", c.Name, e.Name)
		}
		seen[e.Name] = true
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			secretEnv[e.Name] = true
		}
	}
	for _, name := range []string{"GATEWAY_ENCRYPTION_KEY", "GATEWAY_DATABASE_URL", "GATEWAY_REDIS_URL"} {
		if !secretEnv[name] {
			fail("container %s: %s must come from a Secret (secretKeyRef)", c.Name, name)
		}
	}

	// Services select the pods and name their ports; one is gRPC-aware.
	if len(m.services) == 0 {
		fail("no Service")
	}
	grpcAware := false
	for _, s := range m.services {
		if len(s.Spec.Selector) == 0 || !selects(s.Spec.Selector, podLabels) {
			fail("Service %s does not select the Deployment's pods", s.Name)
		}
		for _, p := range s.Spec.Ports {
			if ports[p.TargetPort.String()] == 0 {
				fail("Service %s port %s: targetPort %s is not a named container port", s.Name, p.Name, p.TargetPort.String())
			}
			if p.Name == "grpc" || p.TargetPort.String() == "grpc" {
				if p.AppProtocol == nil || *p.AppProtocol != "grpc" {
					fail("Service %s port %s: want appProtocol: grpc (gRPC-aware proxies balance per call)", s.Name, p.Name)
				} else {
					grpcAware = true
				}
			}
		}
	}
	if !grpcAware {
		fail("no Service port named grpc with appProtocol: grpc")
	}

	if len(m.pdbs) != 1 {
		fail("want one PodDisruptionBudget, got %d", len(m.pdbs))
	}
	for _, p := range m.pdbs {
		if p.Spec.Selector == nil || len(p.Spec.Selector.MatchLabels) == 0 || !selects(p.Spec.Selector.MatchLabels, podLabels) {
			fail("PodDisruptionBudget %s does not select the Deployment's pods", p.Name)
		}
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			fail("PodDisruptionBudget %s: want exactly one of minAvailable, maxUnavailable", p.Name)
		}
	}

	if len(m.hpas) != 1 {
		fail("want one HorizontalPodAutoscaler, got %d", len(m.hpas))
	}
	for _, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
			fail("HorizontalPodAutoscaler %s does not scale Deployment %s", h.Name, d.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			fail("HorizontalPodAutoscaler %s: want minReplicas >= 2 and maxReplicas >= minReplicas", h.Name)
		}
		cpu := false
		for _, mt := range h.Spec.Metrics {
			if mt.Type == autoscalingv2.ResourceMetricSourceType && mt.Resource != nil && mt.Resource.Name == corev1.ResourceCPU {
				cpu = true
			}
		}
		if !cpu {
			fail("HorizontalPodAutoscaler %s: want a CPU resource metric", h.Name)
		}
	}
	return errs
}

// gatewayConfig loads the gateway's configuration as the container would:
// GATEWAY_CONFIG naming a file of a mounted ConfigMap, plus the literal
// environment values; secrets from Secrets stand in as placeholders.
func gatewayConfig(m *manifests, spec corev1.PodSpec, c corev1.Container) (*app.Config, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	path := env[app.ConfigFileEnv]
	if path == "" {
		return nil, fmt.Errorf("%s is not set", app.ConfigFileEnv)
	}
	var text *string
	for _, vm := range c.VolumeMounts {
		if filepath.Dir(path) != filepath.Clean(vm.MountPath) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			for _, cm := range m.configMaps {
				if cm.Name == v.ConfigMap.Name {
					if s, ok := cm.Data[filepath.Base(path)]; ok {
						text = &s
					}
				}
			}
		}
	}
	if text == nil {
		return nil, fmt.Errorf("%s=%s is not a file of a mounted ConfigMap", app.ConfigFileEnv, path)
	}
	file := filepath.Join(os.TempDir(), fmt.Sprintf("crmgate-deploy-%d.yaml", os.Getpid()))
	if err := os.WriteFile(file, []byte(*text), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	env[app.ConfigFileEnv] = file
	fs := pflag.NewFlagSet("deploy", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l, err := app.RegisterConfigFlags(fs).Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		return nil, err
	}
	return &l.Config, nil
}

func writableMount(c corev1.Container, dir string) bool {
	for _, vm := range c.VolumeMounts {
		rel, err := filepath.Rel(vm.MountPath, dir)
		if err == nil && !strings.HasPrefix(rel, "..") && !vm.ReadOnly {
			return true
		}
	}
	return false
}

// selects reports whether selector matches labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func validate(files map[string]string) error {
	m, err := decode(files)
	if err != nil {
		return err
	}
	return errors.Join(check(m)...)
}

// TestManifests validates deploy/ as kubectl apply -k would send it.
func TestManifests(t *testing.T) {
	files, err := render(".")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(files); err != nil {
		t.Fatal(err)
	}
	// Every manifest here is listed, except examples.
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".yaml") && n != "kustomization.yaml" && !strings.HasSuffix(n, ".example.yaml") && files[n] == "" {
			t.Errorf("%s is not listed in kustomization.yaml", n)
		}
	}
	// The example Secret decodes and provides the keys the Deployment uses.
	raw, err := os.ReadFile("secret.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var secret corev1.Secret
	if err := yaml.UnmarshalStrict(raw, &secret); err != nil {
		t.Fatalf("secret.example.yaml: %v", err)
	}
	m, _ := decode(files)
	for _, e := range m.deployments[0].Spec.Template.Spec.Containers[0].Env {
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
			if ref.SecretKeyRef.Name != secret.Name {
				t.Errorf("%s comes from Secret %s, the example is %s", e.Name, ref.SecretKeyRef.Name, secret.Name)
			}
			if _, ok := secret.StringData[ref.SecretKeyRef.Key]; !ok && (ref.SecretKeyRef.Optional == nil || !*ref.SecretKeyRef.Optional) {
				t.Errorf("%s: key %s missing from secret.example.yaml", e.Name, ref.SecretKeyRef.Key)
			}
		}
	}
}

// TestChecksCatchBrokenManifests: each breakage of the real manifests is
// reported, so TestManifests can fail.
func TestChecksCatchBrokenManifests(t *testing.T) {
	files, err := render(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, old, new, want string
	}{
		{"deployment.yaml", "  replicas: 2", "  replicas: 1", "at least 2 replicas"},
		{"deployment.yaml", "readinessProbe:", "readinesProbe:", `unknown field "readinesProbe"`},
		{"deployment.yaml", "path: /readyz", "path: /healthz", "readinessProbe must be an httpGet of /readyz"},
		{"deployment.yaml", "cpu: 250m", "cpu: lots", "quantities must match"},
		{"deployment.yaml", "memory: 128Mi", "memory: 1Gi", "memory request 1Gi above its limit 512Mi"},
		{"deployment.yaml", "            limits:\n              cpu: \"2\"\n", "            limits:\n", "want cpu request and limit"},
		{"deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "want readOnlyRootFilesystem"},
		{"deployment.yaml", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot"},
		{"deployment.yaml", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 20", "must exceed shutdown_delay + shutdown_grace"},
		{"deployment.yaml", "containerPort: 9090", "containerPort: \"9090\"", "cannot unmarshal string"},
		{"deployment.yaml", "- name: data\n              mountPath: /data", "- name: data\n              mountPath: /var/data", "data_dir /data is not on a writable volume"},
		{"deployment.yaml", "key: redis-url\n", "key: redis-url\n            - name: GATEWAY_REDIS_URL\n              value: redis://x\n", "env GATEWAY_REDIS_URL is set twice"},
		{"deployment.yaml", "name: GATEWAY_REDIS_URL\n              valueFrom:\n                secretKeyRef:\n                  name: crmgate\n                  key: redis-url", "name: GATEWAY_REDIS_URL\n              value: redis://:pw@redis:6379/0", "GATEWAY_REDIS_URL must come from a Secret"},
		{"configmap.yaml", "shutdown_grace: 20s", "shutdown_grace: 30s", "must exceed shutdown_delay + shutdown_grace (35s)"},
		{"configmap.yaml", "log_level: info", "log_levl: info", `unknown setting "log_levl"`},
		{"configmap.yaml", `grpc_addr: ":9090"`, `grpc_addr: ":9091"`, "does not listen on container port grpc"},
		{"service.yaml", "      appProtocol: grpc\n---", "---", "Service crmgate port grpc: want appProtocol: grpc"},
		{"service.yaml", "      appProtocol: grpc", "      appProtocol: http2", "Service crmgate port grpc: want appProtocol: grpc"},
		{"service.yaml", "targetPort: grpc", "targetPort: grcp", "targetPort grcp is not a named container port"},
		{"service.yaml", "    app.kubernetes.io/component: gateway\n  ports", "    app.kubernetes.io/component: gatway\n  ports", "does not select the Deployment's pods"},
		{"pdb.yaml", "maxUnavailable: 1", "minAvailable: 1\n  maxUnavailable: 1", "exactly one of minAvailable, maxUnavailable"},
		{"hpa.yaml", "    name: crmgate\n  minReplicas", "    name: crmgate-old\n  minReplicas", "does not scale Deployment crmgate"},
		{"hpa.yaml", "name: cpu", "name: memory", "want a CPU resource metric"},
		{"hpa.yaml", "minReplicas: 2", "minReplicas: 1", "minReplicas >= 2"},
		{"hpa.yaml", "apiVersion: autoscaling/v2", "apiVersion: autoscaling/v2beta1", "unexpected autoscaling/v2beta1 HorizontalPodAutoscaler"},
	} {
		t.Run(tc.file+": "+tc.new, func(t *testing.T) {
			broken := map[string]string{}
			for k, v := range files {
				broken[k] = v
			}
			if !strings.Contains(broken[tc.file], tc.old) {
				t.Fatalf("%s no longer contains %q: update the test", tc.file, tc.old)
			}
			broken[tc.file] = strings.Replace(broken[tc.file], tc.old, tc.new, 1)
			err := validate(broken)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
