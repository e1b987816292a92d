package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestUseCasesKnowNoTransportOrFormat: nothing the use cases depend on, even
// indirectly, speaks HTTP, maps rows or reads workbooks.
func TestUseCasesKnowNoTransportOrFormat(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", strings.HasPrefix(dep, "github.com/xuri/excelize"),
			strings.HasPrefix(dep, "github.com/gin-gonic/gin"), strings.HasPrefix(dep, "gorm.io/"):
			t.Errorf("app depends on %s", dep)
		}
	}
}
