package daemon

// statusRoutes serve the status page at / and what it reads.
var statusRoutes = []route{}
