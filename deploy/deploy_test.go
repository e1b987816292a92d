// Package deploy_test checks the deployment files that no test can run here
// (there is no Docker or Kubernetes in CI): they parse, and they say what the
// server needs — a non-root user who can write the data directory, attachments
// shared between replicas, a readable audit key, a migration per release.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// nonRoot is distroless' "nonroot" user, by number.
const nonRoot = 65532

type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name         string `yaml:"name"`
		GenerateName string `yaml:"generateName"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		AccessModes             []string `yaml:"accessModes"`
		TTLSecondsAfterFinished *int     `yaml:"ttlSecondsAfterFinished"`
		Template                struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
		FSGroup      int  `yaml:"fsGroup"`
	} `yaml:"securityContext"`
	Containers []struct {
		Image string `yaml:"image"`
		Args  []string
		Env   []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		EnvFrom []struct {
			ConfigMapRef struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			DefaultMode int    `yaml:"defaultMode"`
		} `yaml:"secret"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

// documents parses every YAML document of every file, strictly.
func documents(t *testing.T, pattern string) map[string][]object {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	out := map[string][]object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var o object
			if err := node.Decode(&o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[f] = append(out[f], o)
		}
	}
	return out
}

func TestComposeParses(t *testing.T) {
	for f, docs := range documents(t, "compose.yaml") {
		if len(docs) != 1 {
			t.Errorf("%s: %d documents", f, len(docs))
		}
	}
}

func TestKubernetesManifests(t *testing.T) {
	byKind := map[string][]object{}
	for f, docs := range documents(t, "kubernetes/*.yaml") {
		for _, o := range docs {
			if o.Kind == "" {
				t.Errorf("%s: a document without kind", f)
			}
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	if len(byKind["Deployment"]) != 1 || len(byKind["Job"]) != 1 || len(byKind["PersistentVolumeClaim"]) != 1 ||
		len(byKind["ConfigMap"]) != 1 {
		t.Fatalf("want one Deployment, Job, PersistentVolumeClaim and ConfigMap; have %v", kinds(byKind))
	}
	config := byKind["ConfigMap"][0].Data
	pvc := byKind["PersistentVolumeClaim"][0]
	if len(pvc.Spec.AccessModes) != 1 || pvc.Spec.AccessModes[0] != "ReadWriteMany" {
		t.Errorf("the data volume's access modes are %v: replicas share attachments, so ReadWriteMany", pvc.Spec.AccessModes)
	}

	dep := byKind["Deployment"][0].Spec.Template.Spec
	sc := dep.SecurityContext
	if !sc.RunAsNonRoot || sc.RunAsUser != nonRoot || sc.FSGroup != nonRoot {
		t.Errorf("the Deployment's pod runs as %+v, want non-root %d with fsGroup %d", sc, nonRoot, nonRoot)
	}
	c := dep.Containers[0]
	env := map[string]string{}
	for k, v := range config {
		env[k] = v
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	mounts := map[string]string{} // volume → path
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range dep.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			if v.PersistentVolumeClaim.ClaimName != pvc.Metadata.Name || mounts[v.Name] != env["RECTIFY_DATA_DIR"] {
				t.Errorf("the shared volume %s is mounted at %q, RECTIFY_DATA_DIR is %q", v.Name, mounts[v.Name], env["RECTIFY_DATA_DIR"])
			}
		case v.Secret != nil:
			key := env["RECTIFY_AUDIT_KEY"]
			if filepath.Dir(key) != mounts[v.Name] {
				t.Errorf("RECTIFY_AUDIT_KEY is %q, not in the secret's mount %q", key, mounts[v.Name])
			}
			// Root owns a secret's files; the server reads the key through its group (fsGroup).
			if v.Secret.DefaultMode&0o040 == 0 {
				t.Errorf("the audit key's mode %#o is not readable by the group %d", v.Secret.DefaultMode, nonRoot)
			}
		}
	}
	if env["RECTIFY_DATA_DIR"] == "" || env["RECTIFY_AUDIT_KEY"] == "" || len(dep.Volumes) < 2 {
		t.Errorf("the Deployment needs RECTIFY_DATA_DIR on the shared volume and RECTIFY_AUDIT_KEY in a secret; env %v", env)
	}
	if env["RECTIFY_MIGRATE"] != "false" {
		t.Errorf("RECTIFY_MIGRATE is %q: the Job migrates, not every replica", env["RECTIFY_MIGRATE"])
	}

	job := byKind["Job"][0]
	if job.Metadata.Name != "" || job.Metadata.GenerateName == "" || job.Spec.TTLSecondsAfterFinished == nil {
		t.Errorf("the migration Job must be created anew per release (generateName, ttlSecondsAfterFinished); metadata %+v", job.Metadata)
	}
	jc := job.Spec.Template.Spec.Containers[0]
	if len(jc.Args) != 1 || jc.Args[0] != "migrate" || jc.Image != c.Image {
		t.Errorf("the Job runs %s %v, the Deployment %s", jc.Image, jc.Args, c.Image)
	}
	if js := job.Spec.Template.Spec.SecurityContext; !js.RunAsNonRoot || js.RunAsUser != nonRoot {
		t.Errorf("the Job's pod runs as %+v", js)
	}
}

func kinds(m map[string][]object) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

// TestDockerfileRunsAsNonRootWithWritableData reads the Dockerfile: the final
// stage runs as the numeric non-root user (Kubernetes' runAsNonRoot cannot
// check a name), and the data directory it declares is that user's.
func TestDockerfileRunsAsNonRootWithWritableData(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := strings.Split(string(data), "\nFROM ")
	final := stages[len(stages)-1]
	want := map[string]*regexp.Regexp{
		"USER 65532":                     regexp.MustCompile(`(?m)^USER 65532(:65532)?$`),
		"RECTIFY_DATA_DIR=/data":         regexp.MustCompile(`RECTIFY_DATA_DIR=/data\b`),
		"COPY --chown=65532:65532 /data": regexp.MustCompile(`(?m)^COPY --from=\S+ --chown=65532:65532 \S+ /data$`),
		"VOLUME /data":                   regexp.MustCompile(`(?m)^VOLUME /data$`),
	}
	for name, re := range want {
		if !re.MatchString(final) {
			t.Errorf("the final stage of deploy/Dockerfile lacks %s", name)
		}
	}
	if i, j := strings.Index(final, "COPY --from=build --chown"), strings.Index(final, "\nVOLUME /data"); i < 0 || j < i {
		t.Errorf("/data must be created and owned before VOLUME declares it")
	}
}
