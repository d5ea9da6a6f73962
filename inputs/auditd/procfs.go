package auditd

import (
	"bytes"
	"os"
	"strconv"
)

// procLookup reads a running process's parent, executable and command
// name from /proc, for the process table's parents that started before
// the gateway (or forked without an audited execve). A pid may have been
// reused since the event: the answer is the live process's, which is why
// only unknown parents are looked up, once.
func procLookup(root string) func(pid uint32) (uint32, string, string, bool) {
	return func(pid uint32) (uint32, string, string, bool) {
		dir := root + "/" + strconv.FormatUint(uint64(pid), 10)
		stat, err := os.ReadFile(dir + "/stat")
		if err != nil {
			return 0, "", "", false
		}
		// pid (comm) state ppid …: comm may hold spaces and parentheses.
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open {
			return 0, "", "", false
		}
		comm := string(stat[open+1 : end])
		f := bytes.Fields(stat[end+1:])
		if len(f) < 2 {
			return 0, "", "", false
		}
		ppid, err := strconv.ParseUint(string(f[1]), 10, 32)
		if err != nil {
			return 0, "", "", false
		}
		exe, _ := os.Readlink(dir + "/exe") // kernel threads have none
		return uint32(ppid), exe, comm, true
	}
}
