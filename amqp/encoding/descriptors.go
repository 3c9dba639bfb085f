package encoding

// Descriptor codes of the spec's composite types (domain 0x00000000), from the
// amqp-specs XML (types, transport, messaging, security, transactions).
const (
	DescOpen        uint64 = 0x10
	DescBegin       uint64 = 0x11
	DescAttach      uint64 = 0x12
	DescFlow        uint64 = 0x13
	DescTransfer    uint64 = 0x14
	DescDisposition uint64 = 0x15
	DescDetach      uint64 = 0x16
	DescEnd         uint64 = 0x17
	DescClose       uint64 = 0x18
	DescError       uint64 = 0x1d

	DescReceived uint64 = 0x23
	DescAccepted uint64 = 0x24
	DescRejected uint64 = 0x25
	DescReleased uint64 = 0x26
	DescModified uint64 = 0x27
	DescSource   uint64 = 0x28
	DescTarget   uint64 = 0x29

	DescDeleteOnClose             uint64 = 0x2b
	DescDeleteOnNoLinks           uint64 = 0x2c
	DescDeleteOnNoMessages        uint64 = 0x2d
	DescDeleteOnNoLinksOrMessages uint64 = 0x2e

	DescCoordinator uint64 = 0x30
	DescDeclare     uint64 = 0x31
	DescDischarge   uint64 = 0x32
	DescDeclared    uint64 = 0x33
	DescTxState     uint64 = 0x34

	DescSASLMechanisms uint64 = 0x40
	DescSASLInit       uint64 = 0x41
	DescSASLChallenge  uint64 = 0x42
	DescSASLResponse   uint64 = 0x43
	DescSASLOutcome    uint64 = 0x44

	DescHeader                uint64 = 0x70
	DescDeliveryAnnotations   uint64 = 0x71
	DescMessageAnnotations    uint64 = 0x72
	DescProperties            uint64 = 0x73
	DescApplicationProperties uint64 = 0x74
	DescData                  uint64 = 0x75
	DescAMQPSequence          uint64 = 0x76
	DescAMQPValue             uint64 = 0x77
	DescFooter                uint64 = 0x78
)

// descriptorNames maps the symbolic descriptors to their codes so that a peer
// using the symbolic form (§1.5) is understood.
var descriptorNames = map[Symbol]uint64{
	"amqp:open:list":        DescOpen,
	"amqp:begin:list":       DescBegin,
	"amqp:attach:list":      DescAttach,
	"amqp:flow:list":        DescFlow,
	"amqp:transfer:list":    DescTransfer,
	"amqp:disposition:list": DescDisposition,
	"amqp:detach:list":      DescDetach,
	"amqp:end:list":         DescEnd,
	"amqp:close:list":       DescClose,
	"amqp:error:list":       DescError,

	"amqp:received:list": DescReceived,
	"amqp:accepted:list": DescAccepted,
	"amqp:rejected:list": DescRejected,
	"amqp:released:list": DescReleased,
	"amqp:modified:list": DescModified,
	"amqp:source:list":   DescSource,
	"amqp:target:list":   DescTarget,

	"amqp:delete-on-close:list":                DescDeleteOnClose,
	"amqp:delete-on-no-links:list":             DescDeleteOnNoLinks,
	"amqp:delete-on-no-messages:list":          DescDeleteOnNoMessages,
	"amqp:delete-on-no-links-or-messages:list": DescDeleteOnNoLinksOrMessages,

	"amqp:coordinator:list":         DescCoordinator,
	"amqp:declare:list":             DescDeclare,
	"amqp:discharge:list":           DescDischarge,
	"amqp:declared:list":            DescDeclared,
	"amqp:transactional-state:list": DescTxState,

	"amqp:sasl-mechanisms:list": DescSASLMechanisms,
	"amqp:sasl-init:list":       DescSASLInit,
	"amqp:sasl-challenge:list":  DescSASLChallenge,
	"amqp:sasl-response:list":   DescSASLResponse,
	"amqp:sasl-outcome:list":    DescSASLOutcome,

	"amqp:header:list":                DescHeader,
	"amqp:delivery-annotations:map":   DescDeliveryAnnotations,
	"amqp:message-annotations:map":    DescMessageAnnotations,
	"amqp:properties:list":            DescProperties,
	"amqp:application-properties:map": DescApplicationProperties,
	"amqp:data:binary":                DescData,
	"amqp:amqp-sequence:list":         DescAMQPSequence,
	"amqp:amqp-value:*":               DescAMQPValue,
	"amqp:footer:map":                 DescFooter,
}

// DescriptorCode returns the numeric code for a symbolic descriptor of the spec.
func DescriptorCode(name Symbol) (uint64, bool) {
	c, ok := descriptorNames[name]
	return c, ok
}
