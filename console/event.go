package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/store"
)

// transactionWindow is how far either side of an event its transaction is
// looked for: flows end minutes to hours after their alerts.
const transactionWindow = 12 * time.Hour

type eventBody struct {
	ID          string
	Time        time.Time
	Kind        string
	Title       string
	Fields      []field
	Binary      []binaryField
	Raw         string
	FlowID      string
	CommunityID string
	Transaction []txRow
	TxTimedOut  bool
	TxCut       bool
	TxSearch    string
	Notes       []triage.Note
	Target      string
	Back        string
}

type txRow struct {
	ID      string
	Time    time.Time
	Kind    string
	Type    string
	Sensor  string
	Action  string
	Summary string
	Current bool
}

func (s *Server) eventPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validEventID(id) {
		s.renderError(w, r, http.StatusBadRequest, "Invalid event id.")
		return
	}
	ctx := r.Context()
	ev, err := s.deps.Store.Event(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "No event with this id in the store (retention may have removed it).")
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body := eventBody{ID: ev.ID, Time: ev.Time, Target: triage.EventTarget(ev.ID), Back: "/event/" + ev.ID}
	fields, err := flatten(ev.JSON)
	if err != nil {
		s.log.Warn().Err(err).Str("id", id).Msg("console: stored event is not valid JSON")
	}
	for i := range fields {
		f := &fields[i]
		f.Pivot = f.Pivot && pivotable(f.Path) && f.Value != ""
		switch f.Path {
		case "kind":
			body.Kind = f.Value
		case "flow_id":
			body.FlowID = f.Value
		case "community_id":
			body.CommunityID = f.Value
		case "signature.name":
			body.Title = f.Value
		}
	}
	body.Fields = fields
	body.Binary = binaryFields(fields)
	var pretty bytes.Buffer
	if json.Indent(&pretty, ev.JSON, "", "  ") == nil {
		body.Raw = pretty.String()
	} else {
		body.Raw = string(ev.JSON)
	}
	if body.Title == "" {
		body.Title = body.Kind + " event"
	}
	if err := s.fillTransaction(r, &body); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if body.Notes, err = s.deps.Triage.Notes(ctx, body.Target); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "event", page{Title: body.Title, Nav: "search", Notice: doneNotice(r), Body: body})
}

// fillTransaction finds every event of the same flow (flow_id) or
// connection (Community ID), from every source, oldest first.
func (s *Server) fillTransaction(r *http.Request, body *eventBody) error {
	req := store.TransactionRequest{
		Filter:      store.Filter{From: body.Time.Add(-transactionWindow), To: body.Time.Add(transactionWindow), Timeout: s.opts.QueryTimeout},
		CommunityID: body.CommunityID,
		Limit:       500,
	}
	var terms []string
	if body.FlowID != "" {
		n, err := strconv.ParseUint(body.FlowID, 10, 64)
		if err == nil {
			req.FlowID = n
			terms = append(terms, "flow_id:"+body.FlowID)
		}
	}
	if body.CommunityID != "" {
		terms = append(terms, "community_id:"+quoteValue(body.CommunityID))
	}
	if len(terms) == 0 {
		return nil
	}
	body.TxSearch = searchURL(strings.Join(terms, " OR "), filterForm{FromTime: req.From, ToTime: req.To})
	res, err := s.deps.Store.Transaction(r.Context(), req)
	if err != nil {
		return err
	}
	body.TxTimedOut, body.TxCut = res.TimedOut, res.Truncated || res.Next != ""
	for _, e := range res.Events {
		row := txRow{ID: e.ID, Time: e.Time, Current: e.ID == body.ID}
		if doc, err := decodeObject(e.JSON); err == nil {
			row.Kind, _ = lookupPath(doc, "kind")
			row.Type, _ = lookupPath(doc, "source.type")
			row.Sensor, _ = lookupPath(doc, "source.sensor")
			row.Action, _ = lookupPath(doc, "action")
			row.Summary = summarize(doc)
		}
		body.Transaction = append(body.Transaction, row)
	}
	return nil
}

// summarize is one line about an event for the transaction table.
func summarize(doc map[string]any) string {
	get := func(p string) string { v, _ := lookupPath(doc, p); return v }
	kind := get("kind")
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+v)
		}
	}
	switch kind {
	case "alert":
		add("", get("signature.name"))
		add("sid ", get("signature.id"))
	case "flow":
		add("", get("app_proto"))
		if p := get("flow.pkts_toserver"); p != "" {
			parts = append(parts, fmt.Sprintf("pkts %s/%s bytes %s/%s", p, get("flow.pkts_toclient"), get("flow.bytes_toserver"), get("flow.bytes_toclient")))
		}
		add("state ", get("flow.state"))
		add("reason ", get("flow.reason"))
	case "packet":
		add("prefix ", get("firewall.prefix"))
		add("group ", get("firewall.group"))
		add("in ", get("firewall.in_iface"))
		add("out ", get("firewall.out_iface"))
	default:
		add("", get("app_proto"))
		add("", get("details.event_type"))
		add("", get("details.type"))
	}
	add("", endpoints(get))
	return strings.Join(parts, " · ")
}

func endpoints(get func(string) string) string {
	src, dst := get("src_ip"), get("dest_ip")
	if src == "" && dst == "" {
		return ""
	}
	if p := get("src_port"); p != "" {
		src += ":" + p
	}
	if p := get("dest_port"); p != "" {
		dst += ":" + p
	}
	return src + " → " + dst
}
