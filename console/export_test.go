package console

import "sync"

var logMu sync.Mutex
