package org.rnn4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A set of named tensors and string metadata in the safetensors format, written deterministically and read safely.
 *
 * <h2>The format</h2>
 * An 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8 JSON, an object mapping each
 * tensor's name to {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}} and the optional key
 * {@code "__metadata__"} to an object of strings; then the data: each tensor's elements, little-endian, row-major,
 * at {@code [begin, end)} counted from the first byte after the header.
 *
 * <h2>Writing</h2>
 * As the reference implementation ({@code huggingface/safetensors}) writes: tensors laid out by decreasing
 * {@link DType} alignment, then by name (compared as UTF-8 bytes), contiguously from offset 0; the header compact
 * ({@code __metadata__} first, its keys sorted as UTF-8 bytes, then the tensors in data order) and padded with spaces
 * to a multiple of 8 bytes. The same tensors and metadata always give the same bytes. Write a file through
 * {@link AtomicFile} with {@link #save}, or to any stream with {@link #write}.
 *
 * <h2>Reading</h2>
 * {@link #read} and {@link #parse} accept only files that follow every rule of the format, and refuse anything else
 * with a {@link CheckpointFormatException} whose message is one line naming the file and the problem: a file shorter
 * than 8 bytes; a header length above {@value #MAX_HEADER_BYTES} bytes (the reference's limit) or past the end of the
 * file; a header that is not UTF-8, not JSON, not one object, or has anything but spaces after it; a duplicate key;
 * a tensor entry without exactly the keys {@code dtype}, {@code shape} and {@code data_offsets}; an unknown dtype; a
 * dimension or offset that is not a non-negative integer; a shape whose element count overflows or disagrees with
 * its byte range; ranges that overlap, leave a hole, or do not end exactly at the end of the file; metadata that is
 * not an object of strings; a string with an unpaired surrogate. The header length is checked against the file's size
 * before anything is allocated, and every tensor's range is checked before its bytes are read, so no allocation is
 * larger than the file.
 */
public final class Safetensors {

    /** The largest header read, in bytes: 100 MB, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** The header key that holds the metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) MAX_HEADER_BYTES)
                    .maxNameLength((int) MAX_HEADER_BYTES)
                    .build())
            .build();

    private static final Comparator<String> UTF8_ORDER = Safetensors::compareUtf8;

    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    /**
     * Tensors and metadata to write, or as read.
     *
     * @param tensors the tensors by name; a name may not be {@value #METADATA_KEY} or hold an unpaired surrogate
     * @param metadata string keys to string values (may be empty); no unpaired surrogates
     * @throws IllegalArgumentException naming the offending name or key
     */
    public Safetensors(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        List<Map.Entry<String, Tensor>> entries = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, Tensor> e : entries) {
            String name = Objects.requireNonNull(e.getKey(), "tensors: a null name");
            Objects.requireNonNull(e.getValue(), () -> "tensors: no tensor for " + quote(name));
            if (name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("tensors: the name " + METADATA_KEY + " is reserved for metadata");
            }
            requireWellFormed(name, "tensors: the name " + quote(name));
        }
        entries.sort((a, b) -> {
            int byType = b.getValue().dtype().compareTo(a.getValue().dtype());
            return byType != 0 ? byType : compareUtf8(a.getKey(), b.getKey());
        });
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : entries) {
            ordered.put(e.getKey(), e.getValue());
        }
        Map<String, String> meta = new TreeMap<>(UTF8_ORDER);
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            String key = Objects.requireNonNull(e.getKey(), "metadata: a null key");
            String value = Objects.requireNonNull(e.getValue(), () -> "metadata: no value for " + quote(key));
            requireWellFormed(key, "metadata: the key " + quote(key));
            requireWellFormed(value, "metadata: the value of " + quote(key));
            meta.put(key, value);
        }
        this.tensors = Collections.unmodifiableMap(ordered);
        this.metadata = Collections.unmodifiableMap(meta);
    }

    /**
     * The tensors, in the order of their data in the file.
     *
     * @return an unmodifiable map
     */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /**
     * One tensor.
     *
     * @param name its name
     * @return the tensor, or null when there is none of that name
     */
    public Tensor tensor(String name) {
        return tensors.get(name);
    }

    /**
     * The metadata, keys in UTF-8 byte order.
     *
     * @return an unmodifiable map (empty when the file has none)
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    // ------------------------------------------------------------------------------------------------ writing

    /**
     * Writes the file's bytes to a stream (for example {@link AtomicFile#stream()}); does not close or flush it.
     *
     * @param out where to write
     * @throws IOException when the stream fails
     */
    public void write(OutputStream out) throws IOException {
        byte[] header = header();
        byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
        out.write(length);
        out.write(header);
        for (Tensor t : tensors.values()) {
            t.writeTo(out);
        }
    }

    /**
     * The file's bytes.
     *
     * @return a new array
     */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(out);
        } catch (IOException e) {
            throw new AssertionError(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /**
     * Saves the file through {@link AtomicFile}: the target ends up with the whole new content or keeps its old one.
     *
     * @param target the file to write
     * @param option what named the file (such as {@code "--checkpoint"}), for messages
     * @throws AtomicFile.UnwritableException when the target cannot be written (nothing was done)
     * @throws IOException when writing or committing fails (the target keeps its old content)
     */
    public void save(Path target, String option) throws AtomicFile.UnwritableException, IOException {
        try (AtomicFile f = AtomicFile.open(target, option)) {
            try {
                write(f.stream());
            } catch (IOException e) {
                throw new IOException(option + ": cannot write '" + target + "': " + e.getMessage(), e);
            }
            f.commit();
        }
    }

    private byte[] header() {
        StringBuilder json = new StringBuilder(64 + 96 * tensors.size());
        json.append('{');
        boolean first = true;
        if (!metadata.isEmpty()) {
            appendString(json, METADATA_KEY).append(":{");
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!first) {
                    json.append(',');
                }
                first = false;
                appendString(json, e.getKey()).append(':');
                appendString(json, e.getValue());
            }
            json.append('}');
            first = false;
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (!first) {
                json.append(',');
            }
            first = false;
            appendString(json, e.getKey()).append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            long end = offset + t.byteCount();
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (bytes.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(bytes, padded);
        Arrays.fill(out, bytes.length, padded, (byte) ' ');
        return out;
    }

    /** A JSON string as serde_json writes it: escapes for quote, backslash and control characters only. */
    private static StringBuilder appendString(StringBuilder json, String s) {
        json.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': json.append("\\\""); break;
                case '\\': json.append("\\\\"); break;
                case '\b': json.append("\\b"); break;
                case '\f': json.append("\\f"); break;
                case '\n': json.append("\\n"); break;
                case '\r': json.append("\\r"); break;
                case '\t': json.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
            }
        }
        return json.append('"');
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Reads and checks a safetensors file.
     *
     * @param file the file
     * @return its tensors and metadata
     * @throws CheckpointFormatException when the file breaks the format (the message names the file and the problem)
     * @throws IOException when the file cannot be read: missing, not a regular file, permission denied (one line
     *         naming the file)
     */
    public static Safetensors read(Path file) throws CheckpointFormatException, IOException {
        String name = file.toString();
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new IOException("cannot read '" + name + "': " + reason(e), e);
        }
        if (!attributes.isRegularFile()) {
            throw new IOException("cannot read '" + name + "': "
                    + (attributes.isDirectory() ? "it is a directory" : "it is not a regular file"));
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return parse(new ChannelSource(channel), name);
        } catch (EOFException e) {
            throw new CheckpointFormatException(name, "the file ended early: it changed while it was read");
        } catch (IOException e) {
            throw new IOException("cannot read '" + name + "': " + reason(e), e);
        }
    }

    /**
     * Checks and decodes a safetensors file held in memory.
     *
     * @param bytes the file's content
     * @param name the file's name for messages (any label)
     * @return its tensors and metadata
     * @throws CheckpointFormatException when the bytes break the format
     */
    public static Safetensors parse(byte[] bytes, String name) throws CheckpointFormatException {
        try {
            return parse(new ArraySource(bytes), name);
        } catch (IOException e) {
            throw new AssertionError(e); // reading an array does not fail: ranges are checked first
        }
    }

    private static Safetensors parse(Source source, String file) throws CheckpointFormatException, IOException {
        long size = source.size();
        if (size < 8) {
            throw new CheckpointFormatException(file, "truncated: " + size + " bytes, too short for the 8-byte "
                    + "header length of the safetensors format");
        }
        byte[] prefix = new byte[8];
        source.read(0, prefix);
        long n = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new CheckpointFormatException(file, "the header length " + Long.toUnsignedString(n)
                    + " is above the limit of " + MAX_HEADER_BYTES + " bytes: not a safetensors file?");
        }
        if (8 + n > size) {
            throw new CheckpointFormatException(file, "the header length " + n + " runs past the end of the file ("
                    + size + " bytes): truncated, or not a safetensors file");
        }
        byte[] headerBytes = new byte[(int) n];
        source.read(8, headerBytes);
        String header = decodeUtf8(headerBytes, file);
        if (!header.startsWith("{")) {
            throw new CheckpointFormatException(file, "the header does not start with '{': not a safetensors file?");
        }
        long dataSize = size - 8 - n;
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = parseHeader(header, file, entries);

        for (Entry e : entries) {
            if (e.begin > e.end) {
                throw new CheckpointFormatException(file, "tensor " + quote(e.name) + ": data_offsets [" + e.begin
                        + ", " + e.end + "] end before they begin");
            }
            if (e.end > dataSize) {
                throw new CheckpointFormatException(file, "tensor " + quote(e.name) + ": data_offsets [" + e.begin
                        + ", " + e.end + "] run past the end of the data (" + dataSize + " bytes): truncated?");
            }
            long count = 1;
            for (long d : e.shape) {
                count = d == 0 || count == 0 ? 0 : (count > Long.MAX_VALUE / d ? -1 : count * d);
                if (count < 0) {
                    throw new CheckpointFormatException(file, "tensor " + quote(e.name) + ": the element count of "
                            + "shape " + Arrays.toString(e.shape) + " overflows");
                }
            }
            if (count > Long.MAX_VALUE / e.dtype.size()) {
                throw new CheckpointFormatException(file, "tensor " + quote(e.name) + ": the byte size of shape "
                        + Arrays.toString(e.shape) + " of " + e.dtype + " overflows");
            }
            long bytes = count * e.dtype.size();
            if (bytes != e.end - e.begin) {
                throw new CheckpointFormatException(file, "tensor " + quote(e.name) + ": shape "
                        + Arrays.toString(e.shape) + " of " + e.dtype + " needs " + bytes + " bytes, but data_offsets ["
                        + e.begin + ", " + e.end + "] hold " + (e.end - e.begin));
            }
        }
        entries.sort(Comparator.<Entry>comparingLong(e -> e.begin).thenComparingLong(e -> e.end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : entries) {
            if (e.begin < covered) {
                throw new CheckpointFormatException(file, "tensors " + quote(previous.name) + " and " + quote(e.name)
                        + " overlap: data_offsets [" + previous.begin + ", " + previous.end + "] and [" + e.begin
                        + ", " + e.end + "]");
            }
            if (e.begin > covered) {
                throw new CheckpointFormatException(file, "the tensors leave the data bytes [" + covered + ", "
                        + e.begin + ") unused, before tensor " + quote(e.name));
            }
            covered = e.end;
            previous = e;
        }
        if (covered != dataSize) {
            throw new CheckpointFormatException(file, "the tensors cover " + covered + " bytes of data, but the file "
                    + "holds " + dataSize + " after its header: trailing bytes or a wrong header length");
        }

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            if (e.end - e.begin > Tensor.MAX_BYTES) {
                throw new CheckpointFormatException(file, "tensor " + quote(e.name) + " is " + (e.end - e.begin)
                        + " bytes, more than this reader supports (" + Tensor.MAX_BYTES + ")");
            }
            byte[] data = new byte[(int) (e.end - e.begin)];
            source.read(8 + n + e.begin, data);
            tensors.put(e.name, Tensor.wrap(e.dtype, e.shape, data));
        }
        return new Safetensors(tensors, metadata, true);
    }

    /** As read: already in data order, already checked. */
    private Safetensors(Map<String, Tensor> tensors, Map<String, String> metadata, boolean checked) {
        this.tensors = Collections.unmodifiableMap(tensors);
        Map<String, String> meta = new TreeMap<>(UTF8_ORDER);
        meta.putAll(metadata);
        this.metadata = Collections.unmodifiableMap(meta);
    }

    private static final class Entry {
        String name;
        DType dtype;
        long[] shape;
        long begin;
        long end;
    }

    private static String decodeUtf8(byte[] bytes, String file) throws CheckpointFormatException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isUnderflow()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            throw new CheckpointFormatException(file, "the header is not valid UTF-8 (at byte " + (8 + in.position())
                    + " of the file)");
        }
        return out.flip().toString();
    }

    private static Map<String, String> parseHeader(String header, String file, List<Entry> entries)
            throws CheckpointFormatException {
        Map<String, String> metadata = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(header)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CheckpointFormatException(file, "the header is not a JSON object");
            }
            Set<String> seen = new HashSet<>();
            boolean metadataSeen = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                checkWellFormed(key, file, "a key in the header");
                if (!seen.add(key)) {
                    throw new CheckpointFormatException(file, "the header has the key " + quote(key) + " twice");
                }
                JsonToken value = p.nextToken();
                if (key.equals(METADATA_KEY)) {
                    metadataSeen = true;
                    if (value == JsonToken.VALUE_NULL) {
                        continue;
                    }
                    if (value != JsonToken.START_OBJECT) {
                        throw new CheckpointFormatException(file, METADATA_KEY + " is not an object of strings");
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String k = p.currentName();
                        checkWellFormed(k, file, METADATA_KEY + " key");
                        if (p.nextToken() != JsonToken.VALUE_STRING) {
                            throw new CheckpointFormatException(file, METADATA_KEY + ": the value of " + quote(k)
                                    + " is not a string");
                        }
                        String v = p.getText();
                        checkWellFormed(v, file, METADATA_KEY + ": the value of " + quote(k));
                        if (metadata.put(k, v) != null) {
                            throw new CheckpointFormatException(file, METADATA_KEY + " has the key " + quote(k)
                                    + " twice");
                        }
                    }
                } else {
                    entries.add(parseEntry(p, key, value, file));
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new CheckpointFormatException(file, "the header is not a JSON object");
            }
            if (p.nextToken() != null) {
                throw new CheckpointFormatException(file, "the header has more than one JSON value (only spaces may "
                        + "follow its object)");
            }
            if (!metadataSeen) {
                metadata.clear();
            }
        } catch (JsonProcessingException e) {
            String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().replaceAll("\\s+", " ");
            if (message.length() > 160) {
                message = message.substring(0, 160) + "...";
            }
            long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
            throw new CheckpointFormatException(file, "the header is not valid JSON"
                    + (at >= 0 ? " (at character " + at + ")" : "") + ": " + message);
        } catch (IOException e) {
            throw new AssertionError(e); // parsing a String does not do I/O
        }
        return metadata;
    }

    private static Entry parseEntry(JsonParser p, String name, JsonToken start, String file)
            throws IOException, CheckpointFormatException {
        String what = "tensor " + quote(name);
        if (start != JsonToken.START_OBJECT) {
            throw new CheckpointFormatException(file, what + ": not an object with dtype, shape and data_offsets");
        }
        Entry e = new Entry();
        e.name = name;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "dtype":
                    if (e.dtype != null) {
                        throw new CheckpointFormatException(file, what + ": dtype is given twice");
                    }
                    if (value != JsonToken.VALUE_STRING) {
                        throw new CheckpointFormatException(file, what + ": dtype is not a string");
                    }
                    e.dtype = DType.forName(p.getText());
                    if (e.dtype == null) {
                        throw new CheckpointFormatException(file, what + ": unknown or unsupported dtype "
                                + quote(p.getText()));
                    }
                    break;
                case "shape":
                    if (e.shape != null) {
                        throw new CheckpointFormatException(file, what + ": shape is given twice");
                    }
                    e.shape = readNaturals(p, value, file, what + ": shape");
                    break;
                case "data_offsets":
                    if (offsets != null) {
                        throw new CheckpointFormatException(file, what + ": data_offsets is given twice");
                    }
                    offsets = readNaturals(p, value, file, what + ": data_offsets");
                    if (offsets.length != 2) {
                        throw new CheckpointFormatException(file, what + ": data_offsets has " + offsets.length
                                + " numbers, not 2 (begin, end)");
                    }
                    break;
                default:
                    throw new CheckpointFormatException(file, what + ": unexpected key " + quote(field)
                            + " (a tensor has only dtype, shape and data_offsets)");
            }
        }
        if (e.dtype == null || e.shape == null || offsets == null) {
            throw new CheckpointFormatException(file, what + ": no " + (e.dtype == null ? "dtype"
                    : e.shape == null ? "shape" : "data_offsets"));
        }
        e.begin = offsets[0];
        e.end = offsets[1];
        return e;
    }

    /** A JSON array of integers from 0 to {@code Long.MAX_VALUE}, at most as many as the header could hold. */
    private static long[] readNaturals(JsonParser p, JsonToken start, String file, String what)
            throws IOException, CheckpointFormatException {
        if (start != JsonToken.START_ARRAY) {
            throw new CheckpointFormatException(file, what + " is not an array of integers");
        }
        long[] values = new long[4];
        int count = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new CheckpointFormatException(file, what + " holds " + describe(p, t)
                        + ", not a non-negative integer");
            }
            JsonParser.NumberType type = p.getNumberType();
            if (type == JsonParser.NumberType.BIG_INTEGER || p.getLongValue() < 0) {
                throw new CheckpointFormatException(file, what + " holds " + shorten(p.getText())
                        + ", not an integer from 0 to " + Long.MAX_VALUE);
            }
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
            }
            values[count++] = p.getLongValue();
        }
        return Arrays.copyOf(values, count);
    }

    private static String describe(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case VALUE_NUMBER_FLOAT: return "the number " + shorten(p.getText());
            case VALUE_STRING: return "the string " + quote(p.getText());
            case START_ARRAY: return "an array";
            case START_OBJECT: return "an object";
            default: return shorten(p.getText());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void checkWellFormed(String s, String file, String what) throws CheckpointFormatException {
        int bad = unpairedSurrogate(s);
        if (bad >= 0) {
            throw new CheckpointFormatException(file, what + " holds an unpaired surrogate \\u"
                    + String.format("%04x", (int) s.charAt(bad)) + ", which is not valid Unicode");
        }
    }

    private static void requireWellFormed(String s, String what) {
        if (unpairedSurrogate(s) >= 0) {
            throw new IllegalArgumentException(what + " holds an unpaired surrogate");
        }
    }

    private static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Compares strings as their UTF-8 bytes compare (which is code point order), as Rust and Python sort strings.
     *
     * @param a a string without unpaired surrogates
     * @param b another
     * @return negative, zero or positive
     */
    static int compareUtf8(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                // UTF-16 order equals code point order except that surrogates (U+10000 and above) sort after
                // U+E000..U+FFFF in code point order but before them in UTF-16
                if (Character.isSurrogate(x) != Character.isSurrogate(y)) {
                    return Character.isSurrogate(x) ? 1 : -1;
                }
                return x - y;
            }
        }
        return a.length() - b.length();
    }

    /** A string for a one-line message: quoted, control characters escaped, at most about 80 characters. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        int limit = 80;
        for (int i = 0; i < s.length(); i++) {
            if (b.length() > limit) {
                b.append("...");
                break;
            }
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('\'').toString();
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Where the bytes come from: a file (positional reads) or an array. */
    private interface Source {
        long size() throws IOException;

        /** Fills {@code into} from {@code position}; EOFException when the source is shorter. */
        void read(long position, byte[] into) throws IOException;
    }

    private static final class ChannelSource implements Source {
        private final FileChannel channel;

        ChannelSource(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void read(long position, byte[] into) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(into);
            while (b.hasRemaining()) {
                int r = channel.read(b, position + b.position());
                if (r < 0) {
                    throw new EOFException();
                }
            }
        }
    }

    private static final class ArraySource implements Source {
        private final byte[] bytes;

        ArraySource(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(long position, byte[] into) {
            System.arraycopy(bytes, (int) position, into, 0, into.length);
        }
    }
}
