package api

// Readiness is GET /readyz: "ok" when the daemon can take work.
type Readiness struct {
	Status string  `json:"status"`
	Checks []Check `json:"checks"`
}

// Readiness and check statuses: only ReadyFail makes /readyz answer 503.
const (
	ReadyOK   = "ok"
	ReadyWarn = "warn"
	ReadyFail = "fail"
)

// Check is one part of readiness: the store, the SIMs, a modem.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok, warn, fail
	Message string `json:"message"`
}

// Storage is GET /v1/storage: what the database takes on disk.
type Storage struct {
	DatabaseBytes    int64 `json:"database_bytes"`
	WALBytes         int64 `json:"wal_bytes"`
	ReclaimableBytes int64 `json:"reclaimable_bytes"`
	FreeBytes        int64 `json:"free_bytes"`
}

// Health is GET /healthz.
type Health struct {
	Status string `json:"status"`
}
