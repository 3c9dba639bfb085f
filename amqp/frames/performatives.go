package frames

import (
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// Roles of a link endpoint (§2.8.1).
const (
	RoleSender   = false
	RoleReceiver = true
)

// Sender settle modes (§2.8.2).
const (
	SndUnsettled uint8 = 0
	SndSettled   uint8 = 1
	SndMixed     uint8 = 2
)

// Receiver settle modes (§2.8.3).
const (
	RcvFirst  uint8 = 0
	RcvSecond uint8 = 1
)

// Open negotiates connection parameters (§2.7.1).
//
//	<type name="open" class="composite" source="list" provides="frame">
//	  <descriptor name="amqp:open:list" code="0x00000000:0x00000010"/>
//	  <field name="container-id" type="string" mandatory="true"/>
//	  <field name="hostname" type="string"/>
//	  <field name="max-frame-size" type="uint" default="4294967295"/>
//	  <field name="channel-max" type="ushort" default="65535"/>
//	  <field name="idle-time-out" type="milliseconds"/>
//	  <field name="outgoing-locales" type="ietf-language-tag" multiple="true"/>
//	  <field name="incoming-locales" type="ietf-language-tag" multiple="true"/>
//	  <field name="offered-capabilities" type="symbol" multiple="true"/>
//	  <field name="desired-capabilities" type="symbol" multiple="true"/>
//	  <field name="properties" type="fields"/>
//	</type>
type Open struct {
	ContainerID         string
	Hostname            string
	MaxFrameSize        uint32 // decoded default 4294967295
	ChannelMax          uint16 // decoded default 65535
	IdleTimeOut         uint32 // milliseconds; 0 means none
	OutgoingLocales     []encoding.Symbol
	IncomingLocales     []encoding.Symbol
	OfferedCapabilities []encoding.Symbol
	DesiredCapabilities []encoding.Symbol
	Properties          encoding.Map
}

func (o *Open) String() string {
	return fmt.Sprintf("open(container-id=%q max-frame-size=%d channel-max=%d idle-time-out=%d)",
		o.ContainerID, o.MaxFrameSize, o.ChannelMax, o.IdleTimeOut)
}

func (o *Open) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescOpen)
	w.String(o.ContainerID)
	w.OptString(o.Hostname)
	w.Uint(o.MaxFrameSize)
	w.Ushort(o.ChannelMax)
	if o.IdleTimeOut > 0 {
		w.Uint(o.IdleTimeOut)
	} else {
		w.Null()
	}
	w.Symbols(o.OutgoingLocales)
	w.Symbols(o.IncomingLocales)
	w.Symbols(o.OfferedCapabilities)
	w.Symbols(o.DesiredCapabilities)
	_ = w.Map(o.Properties)
	return w.End()
}

func (o *Open) decode(f *encoding.FieldReader) error {
	o.MaxFrameSize, o.ChannelMax = 4294967295, 65535
	if !f.String(&o.ContainerID) && f.Err() == nil {
		return missing("container-id")
	}
	f.String(&o.Hostname)
	f.Uint(&o.MaxFrameSize)
	f.Ushort(&o.ChannelMax)
	f.Uint(&o.IdleTimeOut)
	f.Symbols(&o.OutgoingLocales)
	f.Symbols(&o.IncomingLocales)
	f.Symbols(&o.OfferedCapabilities)
	f.Symbols(&o.DesiredCapabilities)
	f.Map(&o.Properties)
	return f.Err()
}

// Begin starts a session on a channel (§2.7.2).
//
//	<field name="remote-channel" type="ushort"/>
//	<field name="next-outgoing-id" type="transfer-number" mandatory="true"/>
//	<field name="incoming-window" type="uint" mandatory="true"/>
//	<field name="outgoing-window" type="uint" mandatory="true"/>
//	<field name="handle-max" type="handle" default="4294967295"/>
//	<field name="offered-capabilities" type="symbol" multiple="true"/>
//	<field name="desired-capabilities" type="symbol" multiple="true"/>
//	<field name="properties" type="fields"/>
type Begin struct {
	RemoteChannel       *uint16
	NextOutgoingID      uint32
	IncomingWindow      uint32
	OutgoingWindow      uint32
	HandleMax           uint32 // decoded default 4294967295
	OfferedCapabilities []encoding.Symbol
	DesiredCapabilities []encoding.Symbol
	Properties          encoding.Map
}

func (o *Begin) String() string {
	rc := "null"
	if o.RemoteChannel != nil {
		rc = fmt.Sprint(*o.RemoteChannel)
	}
	return fmt.Sprintf("begin(remote-channel=%s next-outgoing-id=%d incoming-window=%d outgoing-window=%d handle-max=%d)",
		rc, o.NextOutgoingID, o.IncomingWindow, o.OutgoingWindow, o.HandleMax)
}

func (o *Begin) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescBegin)
	if o.RemoteChannel != nil {
		w.Ushort(*o.RemoteChannel)
	} else {
		w.Null()
	}
	w.Uint(o.NextOutgoingID)
	w.Uint(o.IncomingWindow)
	w.Uint(o.OutgoingWindow)
	w.Uint(o.HandleMax)
	w.Symbols(o.OfferedCapabilities)
	w.Symbols(o.DesiredCapabilities)
	_ = w.Map(o.Properties)
	return w.End()
}

func (o *Begin) decode(f *encoding.FieldReader) error {
	o.HandleMax = 4294967295
	var rc uint16
	if f.Ushort(&rc) {
		o.RemoteChannel = ptrTo(rc)
	}
	if !f.Uint(&o.NextOutgoingID) {
		return orMissing(f, "next-outgoing-id")
	}
	if !f.Uint(&o.IncomingWindow) {
		return orMissing(f, "incoming-window")
	}
	if !f.Uint(&o.OutgoingWindow) {
		return orMissing(f, "outgoing-window")
	}
	f.Uint(&o.HandleMax)
	f.Symbols(&o.OfferedCapabilities)
	f.Symbols(&o.DesiredCapabilities)
	f.Map(&o.Properties)
	return f.Err()
}

// orMissing returns the reader's error if any, else a missing-field error.
func orMissing(f *encoding.FieldReader, name string) error {
	if err := f.Err(); err != nil {
		return err
	}
	return missing(name)
}

// Attach attaches a link to a session (§2.7.3).
//
//	<field name="name" type="string" mandatory="true"/>
//	<field name="handle" type="handle" mandatory="true"/>
//	<field name="role" type="role" mandatory="true"/>
//	<field name="snd-settle-mode" type="sender-settle-mode" default="mixed"/>
//	<field name="rcv-settle-mode" type="receiver-settle-mode" default="first"/>
//	<field name="source" type="*" requires="source"/>
//	<field name="target" type="*" requires="target"/>
//	<field name="unsettled" type="map"/>
//	<field name="incomplete-unsettled" type="boolean" default="false"/>
//	<field name="initial-delivery-count" type="sequence-no"/>
//	<field name="max-message-size" type="ulong"/>
//	<field name="offered-capabilities" type="symbol" multiple="true"/>
//	<field name="desired-capabilities" type="symbol" multiple="true"/>
//	<field name="properties" type="fields"/>
type Attach struct {
	Name          string
	Handle        uint32
	Role          bool // RoleSender or RoleReceiver
	SndSettleMode uint8
	RcvSettleMode uint8
	Source        *Source // nil encodes null (used to refuse a link)
	Target        *Target
	// Coordinator holds the raw coordinator target of a transaction
	// controller's link (§4.5.1), which takes the target's place.
	Coordinator          []byte
	Unsettled            encoding.Map
	IncompleteUnsettled  bool
	InitialDeliveryCount *uint32
	MaxMessageSize       uint64 // 0: no limit
	OfferedCapabilities  []encoding.Symbol
	DesiredCapabilities  []encoding.Symbol
	Properties           encoding.Map
}

func (o *Attach) String() string {
	return fmt.Sprintf("attach(name=%q handle=%d role=%s snd-settle-mode=%d rcv-settle-mode=%d source=%v target=%v)",
		o.Name, o.Handle, roleName(o.Role), o.SndSettleMode, o.RcvSettleMode, o.Source, o.Target)
}

func roleName(r bool) string {
	if r == RoleReceiver {
		return "receiver"
	}
	return "sender"
}

func (o *Attach) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescAttach)
	w.String(o.Name)
	w.Uint(o.Handle)
	w.Bool(o.Role)
	w.Ubyte(o.SndSettleMode)
	w.Ubyte(o.RcvSettleMode)
	if o.Source != nil {
		w.B = o.Source.Append(w.B)
		w.Appended()
	} else {
		w.Null()
	}
	switch {
	case o.Target != nil:
		w.B = o.Target.Append(w.B)
		w.Appended()
	case o.Coordinator != nil:
		w.Raw(o.Coordinator)
	default:
		w.Null()
	}
	_ = w.Map(o.Unsettled)
	if o.IncompleteUnsettled {
		w.Bool(true)
	} else {
		w.Null()
	}
	w.OptUint(o.InitialDeliveryCount)
	if o.MaxMessageSize > 0 {
		w.Ulong(o.MaxMessageSize)
	} else {
		w.Null()
	}
	w.Symbols(o.OfferedCapabilities)
	w.Symbols(o.DesiredCapabilities)
	_ = w.Map(o.Properties)
	return w.End()
}

func (o *Attach) decode(f *encoding.FieldReader) error {
	o.SndSettleMode, o.RcvSettleMode = SndMixed, RcvFirst
	if !f.String(&o.Name) {
		return orMissing(f, "name")
	}
	if !f.Uint(&o.Handle) {
		return orMissing(f, "handle")
	}
	if !f.Bool(&o.Role) {
		return orMissing(f, "role")
	}
	f.Ubyte(&o.SndSettleMode)
	f.Ubyte(&o.RcvSettleMode)
	if raw := f.RawField(); raw != nil {
		s, err := DecodeSource(raw)
		if err != nil {
			return err
		}
		o.Source = s
	}
	if raw := f.RawField(); raw != nil {
		if isCoordinator(raw) {
			o.Coordinator = raw
		} else {
			t, err := DecodeTarget(raw)
			if err != nil {
				return err
			}
			o.Target = t
		}
	}
	f.Map(&o.Unsettled)
	f.Bool(&o.IncompleteUnsettled)
	var idc uint32
	if f.Uint(&idc) {
		o.InitialDeliveryCount = ptrTo(idc)
	}
	f.Ulong(&o.MaxMessageSize)
	f.Symbols(&o.OfferedCapabilities)
	f.Symbols(&o.DesiredCapabilities)
	f.Map(&o.Properties)
	return f.Err()
}

// Flow updates link and session flow state (§2.7.4).
//
//	<field name="next-incoming-id" type="transfer-number"/>
//	<field name="incoming-window" type="uint" mandatory="true"/>
//	<field name="next-outgoing-id" type="transfer-number" mandatory="true"/>
//	<field name="outgoing-window" type="uint" mandatory="true"/>
//	<field name="handle" type="handle"/>
//	<field name="delivery-count" type="sequence-no"/>
//	<field name="link-credit" type="uint"/>
//	<field name="available" type="uint"/>
//	<field name="drain" type="boolean" default="false"/>
//	<field name="echo" type="boolean" default="false"/>
//	<field name="properties" type="fields"/>
type Flow struct {
	NextIncomingID *uint32
	IncomingWindow uint32
	NextOutgoingID uint32
	OutgoingWindow uint32
	Handle         *uint32 // nil: a session-only flow
	DeliveryCount  *uint32
	LinkCredit     *uint32
	Available      *uint32
	Drain          bool
	Echo           bool
	Properties     encoding.Map
}

func (o *Flow) String() string {
	return fmt.Sprintf("flow(next-incoming-id=%s incoming-window=%d next-outgoing-id=%d outgoing-window=%d handle=%s delivery-count=%s link-credit=%s available=%s drain=%t echo=%t)",
		optU(o.NextIncomingID), o.IncomingWindow, o.NextOutgoingID, o.OutgoingWindow,
		optU(o.Handle), optU(o.DeliveryCount), optU(o.LinkCredit), optU(o.Available), o.Drain, o.Echo)
}

func optU(p *uint32) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func (o *Flow) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescFlow)
	w.OptUint(o.NextIncomingID)
	w.Uint(o.IncomingWindow)
	w.Uint(o.NextOutgoingID)
	w.Uint(o.OutgoingWindow)
	w.OptUint(o.Handle)
	w.OptUint(o.DeliveryCount)
	w.OptUint(o.LinkCredit)
	w.OptUint(o.Available)
	optTrue(&w, o.Drain)
	optTrue(&w, o.Echo)
	_ = w.Map(o.Properties)
	return w.End()
}

// optTrue writes a boolean whose default is false: true, or null.
func optTrue(w *encoding.ListWriter, v bool) {
	if v {
		w.Bool(true)
	} else {
		w.Null()
	}
}

func (o *Flow) decode(f *encoding.FieldReader) error {
	// The five optional uints are read into one array and, if any is present,
	// share one allocation: flows are frequent.
	var opt [5]uint32 // next-incoming-id, handle, delivery-count, link-credit, available
	var has [5]bool
	has[0] = f.Uint(&opt[0])
	if !f.Uint(&o.IncomingWindow) {
		return orMissing(f, "incoming-window")
	}
	if !f.Uint(&o.NextOutgoingID) {
		return orMissing(f, "next-outgoing-id")
	}
	if !f.Uint(&o.OutgoingWindow) {
		return orMissing(f, "outgoing-window")
	}
	for i := 1; i < len(opt); i++ {
		has[i] = f.Uint(&opt[i])
	}
	if has != [5]bool{} {
		p := new([5]uint32)
		*p = opt
		for i, dst := range []**uint32{&o.NextIncomingID, &o.Handle, &o.DeliveryCount, &o.LinkCredit, &o.Available} {
			if has[i] {
				*dst = &p[i]
			}
		}
	}
	f.Bool(&o.Drain)
	f.Bool(&o.Echo)
	f.Map(&o.Properties)
	return f.Err()
}

// Transfer carries (part of) a message on a link (§2.7.5).
//
//	<field name="handle" type="handle" mandatory="true"/>
//	<field name="delivery-id" type="delivery-number"/>
//	<field name="delivery-tag" type="delivery-tag"/>
//	<field name="message-format" type="message-format"/>
//	<field name="settled" type="boolean"/>
//	<field name="more" type="boolean" default="false"/>
//	<field name="rcv-settle-mode" type="receiver-settle-mode"/>
//	<field name="state" type="*" requires="delivery-state"/>
//	<field name="resume" type="boolean" default="false"/>
//	<field name="aborted" type="boolean" default="false"/>
//	<field name="batchable" type="boolean" default="false"/>
type Transfer struct {
	Handle        uint32
	DeliveryID    uint32
	HasDeliveryID bool
	DeliveryTag   []byte // aliases the frame buffer after decode
	MessageFormat uint32
	HasFormat     bool
	Settled       bool
	HasSettled    bool
	More          bool
	RcvSettleMode *uint8
	State         DeliveryState
	Resume        bool
	Aborted       bool
	Batchable     bool
}

func (o *Transfer) String() string {
	return fmt.Sprintf("transfer(handle=%d delivery-id=%d delivery-tag=%x message-format=%d settled=%t more=%t aborted=%t)",
		o.Handle, o.DeliveryID, o.DeliveryTag, o.MessageFormat, o.Settled, o.More, o.Aborted)
}

// Append writes the transfer. Delivery-id, delivery-tag and message-format are
// written when their Has flag (or tag) is set: they must be on the first frame
// of a delivery and may be left off continuation frames.
func (o *Transfer) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescTransfer)
	w.Uint(o.Handle)
	if o.HasDeliveryID {
		w.Uint(o.DeliveryID)
	} else {
		w.Null()
	}
	w.OptBinary(o.DeliveryTag)
	if o.HasFormat {
		w.Uint(o.MessageFormat)
	} else {
		w.Null()
	}
	if o.HasSettled || o.Settled {
		w.Bool(o.Settled)
	} else {
		w.Null()
	}
	optTrue(&w, o.More)
	if o.RcvSettleMode != nil {
		w.Ubyte(*o.RcvSettleMode)
	} else {
		w.Null()
	}
	appendState(&w, o.State)
	optTrue(&w, o.Resume)
	optTrue(&w, o.Aborted)
	optTrue(&w, o.Batchable)
	return w.End()
}

func (o *Transfer) decode(f *encoding.FieldReader) error {
	if !f.Uint(&o.Handle) {
		return orMissing(f, "handle")
	}
	o.HasDeliveryID = f.Uint(&o.DeliveryID)
	f.Binary(&o.DeliveryTag)
	o.HasFormat = f.Uint(&o.MessageFormat)
	o.HasSettled = f.Bool(&o.Settled)
	f.Bool(&o.More)
	var m uint8
	if f.Ubyte(&m) {
		o.RcvSettleMode = ptrTo(m)
	}
	if raw := f.RawField(); raw != nil {
		s, err := DecodeDeliveryState(raw)
		if err != nil {
			return err
		}
		o.State = s
	}
	f.Bool(&o.Resume)
	f.Bool(&o.Aborted)
	f.Bool(&o.Batchable)
	return f.Err()
}

// Disposition settles or updates the state of a range of deliveries (§2.7.6).
//
//	<field name="role" type="role" mandatory="true"/>
//	<field name="first" type="delivery-number" mandatory="true"/>
//	<field name="last" type="delivery-number"/>
//	<field name="settled" type="boolean" default="false"/>
//	<field name="state" type="*" requires="delivery-state"/>
//	<field name="batchable" type="boolean" default="false"/>
type Disposition struct {
	Role      bool
	First     uint32
	Last      *uint32 // nil: Last == First
	Settled   bool
	State     DeliveryState
	Batchable bool
}

func (o *Disposition) String() string {
	return fmt.Sprintf("disposition(role=%s first=%d last=%s settled=%t state=%v)",
		roleName(o.Role), o.First, optU(o.Last), o.Settled, o.State)
}

// LastID returns the last delivery-id of the range.
func (o *Disposition) LastID() uint32 {
	if o.Last == nil {
		return o.First
	}
	return *o.Last
}

func (o *Disposition) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescDisposition)
	w.Bool(o.Role)
	w.Uint(o.First)
	w.OptUint(o.Last)
	optTrue(&w, o.Settled)
	appendState(&w, o.State)
	optTrue(&w, o.Batchable)
	return w.End()
}

func (o *Disposition) decode(f *encoding.FieldReader) error {
	if !f.Bool(&o.Role) {
		return orMissing(f, "role")
	}
	if !f.Uint(&o.First) {
		return orMissing(f, "first")
	}
	var last uint32
	if f.Uint(&last) {
		o.Last = ptrTo(last)
	}
	f.Bool(&o.Settled)
	if raw := f.RawField(); raw != nil {
		s, err := DecodeDeliveryState(raw)
		if err != nil {
			return err
		}
		o.State = s
	}
	f.Bool(&o.Batchable)
	return f.Err()
}

// Detach detaches (or, with Closed, closes) a link (§2.7.7).
type Detach struct {
	Handle uint32
	Closed bool
	Error  *Error
}

func (o *Detach) String() string {
	return fmt.Sprintf("detach(handle=%d closed=%t error=%v)", o.Handle, o.Closed, o.Error)
}

func (o *Detach) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescDetach)
	w.Uint(o.Handle)
	optTrue(&w, o.Closed)
	appendError(&w, o.Error)
	return w.End()
}

func (o *Detach) decode(f *encoding.FieldReader) error {
	if !f.Uint(&o.Handle) {
		return orMissing(f, "handle")
	}
	f.Bool(&o.Closed)
	var err error
	o.Error, err = readError(f)
	if err != nil {
		return err
	}
	return f.Err()
}

// End ends a session (§2.7.8).
type End struct{ Error *Error }

func (o *End) String() string { return fmt.Sprintf("end(error=%v)", o.Error) }

func (o *End) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescEnd)
	appendError(&w, o.Error)
	return w.End()
}

func (o *End) decode(f *encoding.FieldReader) error {
	var err error
	if o.Error, err = readError(f); err != nil {
		return err
	}
	return f.Err()
}

// Close closes the connection (§2.7.9).
type Close struct{ Error *Error }

func (o *Close) String() string { return fmt.Sprintf("close(error=%v)", o.Error) }

func (o *Close) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescClose)
	appendError(&w, o.Error)
	return w.End()
}

func (o *Close) decode(f *encoding.FieldReader) error {
	var err error
	if o.Error, err = readError(f); err != nil {
		return err
	}
	return f.Err()
}

func appendError(w *encoding.ListWriter, e *Error) {
	if e == nil {
		w.Null()
		return
	}
	w.B = e.Append(w.B)
	w.Appended()
}

func readError(f *encoding.FieldReader) (*Error, error) {
	raw := f.RawField()
	if raw == nil {
		return nil, f.Err()
	}
	return DecodeError(raw)
}

func appendState(w *encoding.ListWriter, s DeliveryState) {
	if s == nil {
		w.Null()
		return
	}
	w.B = s.Append(w.B)
	w.Appended()
}

// isCoordinator reports whether raw is a coordinator target.
func isCoordinator(raw []byte) bool {
	code, _, known, err := encoding.NewReader(raw).ReadDescriptor()
	return err == nil && known && code == encoding.DescCoordinator
}
