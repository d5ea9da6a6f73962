package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOffsets reads a consumer group's committed offsets of topic.
func groupOffsets(ctx context.Context, cl *kgo.Client, group, topic string, partitions int32) (map[int32]int64, error) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[p.Partition] = p.Offset
		}
	}
	return out, nil
}

// fileFlowIDs reads the flow ids in a central's output file.
func fileFlowIDs(path string) map[int]int {
	out := map[int]int{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e centralEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out[e.FlowID]++
		}
	}
	return out
}

// TestE2EKafkaFleet: a sensor gateway writes to Kafka (franz-go's kfake, a
// real Kafka protocol on loopback); two central gateways consume the topic
// as one group. One central is SIGKILLed mid-stream: its partitions move to
// the other, every event arrives, and at no moment is a group offset
// committed ahead of what the centrals' outputs have.
func TestE2EKafkaFleet(t *testing.T) {
	const partitions, total = 3, 9000
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "alertgw-alert"),
		kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()[0]
	dir := shortDir(t)

	sock := filepath.Join(dir, "sensor.sock")
	sensor := startProc(t, dir, "sensor", fmt.Sprintf(`sensor: sensor-k
log: {level: info, format: json}
admin: {listen: ""}
pipeline: {journal: {path: %[1]s/sensor-journal}}
dead_letter: {path: %[1]s/sensor-dead.json}
inputs:
  - {name: eve, type: suricata, socket: %[2]s, socket_type: stream}
outputs:
  - name: bus
    type: kafka
    brokers: [%[3]s]
    buffer: {type: disk, path: %[1]s/sensor-buf}
`, dir, sock, brokers), socketExists(sock))

	files, admins := make([]string, 2), make([]string, 2)
	var centrals []*proc
	for i := range 2 {
		files[i] = filepath.Join(dir, fmt.Sprintf("central-%d.json", i))
		admins[i] = freePort(t)
		admin := admins[i]
		centrals = append(centrals, startProc(t, dir, fmt.Sprintf("central-%d", i), fmt.Sprintf(`sensor: central-%d
log: {level: info, format: json}
admin: {listen: "%s"}
dead_letter: {path: %s/central-%d-dead.json}
inputs:
  - name: bus
    type: kafka
    brokers: [%s]
    topics: [alertgw-alert]
    group: centrals
    commit_interval: 50ms
    session_timeout: 2s
    revoke_wait: 2s
outputs:
  # The output lingers: events wait in its queue for up to 300 ms before
  # they are written, so an offset committed at handover would show.
  - {name: all, type: file, path: %s, batch: {max_events: 5000, linger: 300ms}}
`, i, admin, dir, i, brokers, files[i]), listening(admin)))
	}

	// Sample, every few milliseconds, the group's committed offsets and
	// then what the outputs have: every record before a committed offset
	// must be in an output file read after it.
	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	type sample struct {
		offsets   map[int32]int64
		delivered map[int]bool
	}
	var (
		samples []sample
		smu     sync.Mutex
	)
	sampling, stopSampling := context.WithCancel(context.Background())
	var swg sync.WaitGroup
	swg.Go(func() {
		for sampling.Err() == nil {
			offs, err := groupOffsets(sampling, admin, "centrals", "alertgw-alert", partitions)
			if err != nil {
				continue
			}
			delivered := map[int]bool{}
			for _, f := range files {
				for id := range fileFlowIDs(f) {
					delivered[id] = true
				}
			}
			smu.Lock()
			samples = append(samples, sample{offs, delivered})
			smu.Unlock()
			time.Sleep(30 * time.Millisecond)
		}
	})

	t0 := time.Now()
	// Suricata writes; a third of the way in, one central dies.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(c)
	for seq := range total {
		w.Write(eveAlert(0, seq))
		if seq%100 == 99 {
			w.Flush()
			time.Sleep(10 * time.Millisecond)
		}
		if seq == total/3 {
			w.Flush()
			deadline := time.Now().Add(20 * time.Second)
			for len(fileFlowIDs(files[0])) == 0 || len(fileFlowIDs(files[1])) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the two centrals did not both receive events (partitions not shared?)")
				}
				time.Sleep(20 * time.Millisecond)
			}
			centrals[0].kill(t)
			t.Logf("central-0 killed at %s", time.Since(t0).Round(time.Millisecond))
		}
	}
	w.Flush()
	c.Close()

	deadline := time.Now().Add(60 * time.Second)
	var got map[int]int
	for {
		got = map[int]int{}
		for _, f := range files {
			for id, n := range fileFlowIDs(f) {
				got[id] += n
			}
		}
		if len(got) >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopSampling()
	swg.Wait()
	t.Logf("everything delivered at %s", time.Since(t0).Round(time.Millisecond))

	missing, dups := 0, 0
	for seq := range total {
		switch n := got[marker(0, seq)]; {
		case n == 0:
			missing++
		case n > 1:
			dups += n - 1
		}
	}
	t.Logf("%d events, %d missing, %d read twice (records the dead central had made safe but not committed)", len(got), missing, dups)
	if missing > 0 {
		t.Errorf("%d events lost", missing)
	}

	// Which flow id sits at which offset: read the topic back.
	reader, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics("alertgw-alert"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	at := map[int32][]int{}
	for n := 0; n < total; {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		fs := reader.PollFetches(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if fs.IsClientClosed() || timedOut {
			t.Fatalf("read back %d of %d records: %v", n, total, fs.Errors())
		}
		fs.EachRecord(func(r *kgo.Record) {
			var e centralEvent
			json.Unmarshal(r.Value, &e)
			for int64(len(at[r.Partition])) < r.Offset {
				at[r.Partition] = append(at[r.Partition], -1)
			}
			at[r.Partition] = append(at[r.Partition], e.FlowID)
			n++
		})
	}
	ahead, checked := 0, 0
	for _, s := range samples {
		for p, off := range s.offsets {
			for o := int64(0); o < off && o < int64(len(at[p])); o++ {
				checked++
				if id := at[p][o]; id > 0 && !s.delivered[id] {
					if ahead == 0 {
						t.Errorf("partition %d committed to %d while the event at offset %d (flow_id %d) was in no output", p, off, o, id)
					}
					ahead++
				}
			}
		}
	}
	t.Logf("%d samples of the committed offsets, %d record checks, %d ahead of delivery", len(samples), checked, ahead)
	if len(samples) < 10 || checked == 0 {
		t.Errorf("too few samples (%d, %d checks) to tell", len(samples), checked)
	}
	// The survivor owns every partition now, and has caught up.
	if code, body := httpGet(t, "http://"+admins[1]+"/metrics"); code != 200 ||
		strings.Count(body, `alertgw_input_kafka_lag_records{input="bus"`) != partitions {
		t.Errorf("the survivor does not report the lag of all %d partitions:\n%s", partitions, grepLines(body, "kafka_lag"))
	}
	if n := metric(t, admins[1], "alertgw_input_kafka_lag_records"); n != 0 {
		t.Errorf("survivor's lag %v, want 0 once everything is delivered", n)
	}
	sensor.stop(t)
	centrals[1].stop(t)
}
