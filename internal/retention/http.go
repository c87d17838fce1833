package retention

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

func (r *Retention) storage(w http.ResponseWriter, req *http.Request) {
	u, err := r.store.Usage(req.Context())
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, store.UsageView(u))
}

// backupPrefix names the temporary copies a backup streams from; Run
// removes any a crash left behind.
const backupPrefix = "backup-"

// backup streams a consistent copy of the database. The copy is made by the
// service (VACUUM INTO a temporary file in the data directory) rather than by
// a client opening the files: the data directory is private to the service
// user, a WAL database cannot be read safely without write access to its
// -shm file, and this way a backup works from any host with a token.
func (r *Retention) backup(w http.ResponseWriter, req *http.Request) {
	u, err := r.store.Usage(req.Context())
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	if need := u.DatabaseBytes + u.WALBytes; u.FreeBytes < need {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusInsufficientStorage, Code: "insufficient_storage",
			Message: fmt.Sprintf("the data directory has %d bytes free; a copy needs up to %d", u.FreeBytes, need)})
		return
	}
	tmp := filepath.Join(r.store.Dir(), backupPrefix+store.NewID("", r.now())+".db.tmp")
	defer os.Remove(tmp)
	if err := r.store.Backup(req.Context(), tmp); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	f, err := os.Open(tmp)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	defer f.Close()
	// The open file stays readable once unlinked: the copy leaves the data
	// directory now, not when the client has read it all (a slow or
	// abandoned download would otherwise hold the space and the name).
	os.Remove(tmp)
	fi, err := f.Stat()
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	// A large copy may take longer than the server's write timeout.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	w.Header().Set("Content-Disposition", `attachment; filename="gsmbridge-`+r.now().UTC().Format("20060102-150405")+`.db"`)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		r.log.Warn("backup download interrupted", "err", err)
	}
}
