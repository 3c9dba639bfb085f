package kafka

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
)

// Compression codecs of a record batch's attributes (bits 0–2).
const (
	codecNone   = 0
	codecGzip   = 1
	codecSnappy = 2
	codecLZ4    = 3
	codecZstd   = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// producedBatch is one decoded batch of a Produce request.
type producedBatch struct {
	producerID   int64
	epoch        int16
	baseSequence int32
	records      []broker.KafkaRecord
}

// decodeBatches decodes the record batches (magic 2) of one partition of a
// Produce request; maxBytes bounds what decompression may produce.
func decodeBatches(data []byte, maxBytes int) ([]producedBatch, error) {
	var out []producedBatch
	for len(data) > 0 {
		if len(data) < 61 {
			return nil, fmt.Errorf("%w: record batch of %d bytes", errCorrupt, len(data))
		}
		length := int(int32(binary.BigEndian.Uint32(data[8:])))
		if length < 49 || length > len(data)-12 {
			return nil, fmt.Errorf("%w: record batch length %d", errCorrupt, length)
		}
		raw := data[:12+length]
		data = data[12+length:]
		if magic := int8(raw[16]); magic != 2 {
			return nil, fmt.Errorf("%w: message format v%d (only v2 record batches)", errMagic, magic)
		}
		if crc32.Checksum(raw[21:], castagnoli) != binary.BigEndian.Uint32(raw[17:]) {
			return nil, fmt.Errorf("%w: record batch CRC mismatch", errCorrupt)
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw); err != nil {
			return nil, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		if b.Attributes&0x20 != 0 {
			return nil, fmt.Errorf("%w: transactional batches", errUnsupported)
		}
		recs, err := decompress(int(b.Attributes&7), b.Records, maxBytes)
		if err != nil {
			return nil, err
		}
		pb := producedBatch{producerID: b.ProducerID, epoch: b.ProducerEpoch, baseSequence: b.FirstSequence}
		if pb.records, err = decodeRecords(recs, int(b.NumRecords), b.FirstTimestamp); err != nil {
			return nil, err
		}
		out = append(out, pb)
	}
	return out, nil
}

// decodeRecords parses n records.
func decodeRecords(src []byte, n int, firstTS int64) ([]broker.KafkaRecord, error) {
	if n < 0 || n > len(src) { // a record takes at least a byte
		return nil, fmt.Errorf("%w: %d records", errCorrupt, n)
	}
	out := make([]broker.KafkaRecord, 0, n)
	for range n {
		l, w := binary.Varint(src)
		if w <= 0 || l < 0 || l > int64(len(src)-w) {
			return nil, fmt.Errorf("%w: record length", errCorrupt)
		}
		var r kmsg.Record
		if err := r.ReadFrom(src[:w+int(l)]); err != nil {
			return nil, fmt.Errorf("%w: record: %w", errCorrupt, err)
		}
		src = src[w+int(l):]
		rec := broker.KafkaRecord{Key: r.Key, Value: r.Value, Time: time.UnixMilli(firstTS + r.TimestampDelta64)}
		for _, h := range r.Headers {
			rec.Headers = append(rec.Headers, broker.KafkaHeader{Key: h.Key, Value: h.Value})
		}
		out = append(out, rec)
	}
	if len(src) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the records", errCorrupt, len(src))
	}
	return out, nil
}

// xerialMagic starts the framed snappy of Java clients (and sarama).
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

var zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(128<<20))

// decompress undoes a batch's compression, producing at most max bytes.
func decompress(codec int, src []byte, max int) ([]byte, error) {
	var r io.Reader
	switch codec {
	case codecNone:
		return src, nil
	case codecGzip:
		gz, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", errCorrupt, err)
		}
		r = gz
	case codecSnappy:
		return unsnappy(src, max)
	case codecLZ4:
		r = lz4.NewReader(bytes.NewReader(src))
	case codecZstd:
		out, err := zstdDec.DecodeAll(src, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", errCorrupt, err)
		}
		if len(out) > max {
			return nil, fmt.Errorf("%w: batch decompresses past %d bytes", errTooLarge, max)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: compression codec %d", errUnsupported, codec)
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: codec %d: %w", errCorrupt, codec, err)
	}
	if len(out) > max {
		return nil, fmt.Errorf("%w: batch decompresses past %d bytes", errTooLarge, max)
	}
	return out, nil
}

// unsnappy reads a raw snappy block or xerial-framed blocks.
func unsnappy(src []byte, max int) ([]byte, error) {
	block := func(b []byte, have int) ([]byte, error) {
		n, err := snappy.DecodedLen(b)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %w", errCorrupt, err)
		}
		if n+have > max {
			return nil, fmt.Errorf("%w: batch decompresses past %d bytes", errTooLarge, max)
		}
		out, err := snappy.Decode(nil, b)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %w", errCorrupt, err)
		}
		return out, nil
	}
	if !bytes.HasPrefix(src, xerialMagic) {
		return block(src, 0)
	}
	if len(src) < 16 {
		return nil, fmt.Errorf("%w: xerial snappy header", errCorrupt)
	}
	src = src[16:]
	var out []byte
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, fmt.Errorf("%w: xerial snappy chunk", errCorrupt)
		}
		n := int(binary.BigEndian.Uint32(src))
		if n > len(src)-4 {
			return nil, fmt.Errorf("%w: xerial snappy chunk of %d bytes", errCorrupt, n)
		}
		b, err := block(src[4:4+n], len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		src = src[4+n:]
	}
	return out, nil
}

// appendBatch encodes records (of one partition, offsets increasing) as
// one uncompressed batch; offsets have gaps, as in a compacted log.
func appendBatch(dst []byte, recs []broker.KafkaRecord) []byte {
	if len(recs) == 0 {
		return dst
	}
	first := recs[0]
	firstTS, maxTS := first.Time.UnixMilli(), first.Time.UnixMilli()
	for _, r := range recs {
		firstTS, maxTS = min(firstTS, r.Time.UnixMilli()), max(maxTS, r.Time.UnixMilli())
	}
	var body []byte
	for _, r := range recs {
		kr := kmsg.Record{
			TimestampDelta64: r.Time.UnixMilli() - firstTS,
			OffsetDelta:      int32(r.Offset - first.Offset),
			Key:              r.Key,
			Value:            r.Value,
		}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		enc := kr.AppendTo(nil) // with Length 0: take it off and put the real one
		_, w := binary.Varint(enc)
		body = binary.AppendVarint(body, int64(len(enc)-w))
		body = append(body, enc[w:]...)
	}
	b := kmsg.RecordBatch{
		FirstOffset:          first.Offset,
		PartitionLeaderEpoch: 0,
		Magic:                2,
		LastOffsetDelta:      int32(recs[len(recs)-1].Offset - first.Offset),
		FirstTimestamp:       firstTS,
		MaxTimestamp:         maxTS,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(recs)),
		Records:              body,
	}
	start := len(dst)
	dst = b.AppendTo(dst)
	batch := dst[start:]
	binary.BigEndian.PutUint32(batch[8:], uint32(len(batch)-12))
	binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], castagnoli))
	return dst
}
