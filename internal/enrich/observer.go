package enrich

import (
	"os"
	"strings"

	"github.com/alertgw/alertgw/normalize"
)

// serviceAccountNamespace is where Kubernetes mounts the pod's namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// newObserver builds the static sensor metadata from the options and, in
// Kubernetes, the pod's environment. getenv and readFile are os.Getenv and
// os.ReadFile outside tests. It returns nil when there is nothing to add.
func newObserver(o ObserverOptions, getenv func(string) string, readFile func(string) ([]byte, error)) *normalize.Observer {
	obs := normalize.Observer{Site: o.Site, Environment: o.Environment, Cluster: o.Cluster}
	k8s := o.Kubernetes == "on" || (o.Kubernetes == "auto" && getenv("KUBERNETES_SERVICE_HOST") != "")
	if k8s {
		// The Downward API names these by convention; HOSTNAME is the pod
		// name unless the pod sets its own hostname.
		obs.Pod = firstNonEmpty(getenv("POD_NAME"), getenv("HOSTNAME"))
		obs.Namespace = getenv("POD_NAMESPACE")
		if obs.Namespace == "" {
			if b, err := readFile(serviceAccountNamespace); err == nil {
				obs.Namespace = strings.TrimSpace(string(b))
			}
		}
		obs.Node = getenv("NODE_NAME")
	}
	if obs == (normalize.Observer{}) {
		return nil
	}
	return &obs
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var (
	osGetenv   = os.Getenv
	osReadFile = os.ReadFile
)
