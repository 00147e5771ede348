package prometheus

import (
	"os/exec"
	"testing"

	"github.com/hookd/hookd/internal/testenv"
)

// TestRules checks the shipped rules with promtool (syntax, then the unit
// tests in alerts_test.yml: each alert fires on its scenario and stays quiet
// on a healthy one).
func TestRules(t *testing.T) {
	promtool := testenv.Promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
