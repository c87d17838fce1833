package sending

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// The reasons the scheduler gives are the ones the API document and
// docs/sending.md list, no more and no fewer.
func TestHoldReasonsAreDocumented(t *testing.T) {
	reasons := []string{HoldNoReadyModem, HoldPinnedModemUnavailable, HoldOperatorPinned, HoldSIMUnavailable,
		HoldSIMLimit, HoldModemBusy, HoldConfirmationPending, HoldUSSDSession, HoldModemDegraded, HoldModemPaused,
		HoldSIMSuspect, HoldRetryBackoff}
	raw := OpenAPI().JSON
	var doc struct {
		Components struct {
			Schemas struct {
				Hold struct {
					Properties struct {
						Reason struct{ Enum []string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas.Hold.Properties.Reason.Enum
	if !slices.Equal(slices.Sorted(slices.Values(enum)), slices.Sorted(slices.Values(reasons))) {
		t.Errorf("OpenAPI Hold.reason enum %v, want %v", enum, reasons)
	}
	docs, err := os.ReadFile("../../docs/sending.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reasons {
		if !strings.Contains(string(docs), "| `"+r+"` |") {
			t.Errorf("docs/sending.md has no row for %s", r)
		}
	}
}
