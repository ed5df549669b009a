package org.rnn4j.testing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A read-only JSON value for tests: the fixtures (PyTorch, numpy) and what the Python reference scripts print. Core and
 * the CUDA module's tests read JSON with this instead of Jackson's data binding, which rnn4j-core does not depend on,
 * not even for tests; it is built on {@code jackson-core}'s streaming {@link JsonParser}, which the library itself uses.
 *
 * <pre>{@code
 * Json root = Json.resource(MyTest.class, "/org/rnn4j/torch/nn_fixtures.json");   // or Json.parse(text / stream / path)
 * for (Json c : root.get("cases")) {                 // arrays iterate over their elements
 *     int hidden = c.get("hidden").asInt();          // get(name) throws, naming the path, when the field is missing
 *     double[] w = c.get("weight").asDoubles();      // a numeric array at once; also asInts(), asLongs(), asStrings()
 *     if (c.has("bias")) { ... }                     // or c.opt("bias"), null when absent
 *     for (Map.Entry<String, Json> e : c.get("grads").fields().entrySet()) { ... }   // fields in the file's order
 * }
 * }</pre>
 *
 * <p><b>Coming from Jackson's {@code JsonNode}:</b> {@code readTree(in)} is {@link #parse(InputStream)};
 * {@code get(name)} is {@link #get(String)} but throws instead of returning null ({@link #opt(String)} returns null,
 * {@link #has(String)} asks); {@code fields()} is {@link #fields()} (a map); {@code bigIntegerValue()} is
 * {@link #asBigInteger()}; {@code asText()} is {@link #asText()} for strings only; {@code convertValue(node, Map.class)}
 * of an object of strings is {@link #asStringMap()}.
 *
 * <p><b>Exact numbers.</b> A number keeps its JSON text. {@link #asDouble()} is {@link Double#parseDouble} of that
 * text (the correctly rounded double; Python's {@code json.dumps} writes the shortest text that reads back to the
 * same double, so every float64 a fixture wrote comes back bit for bit, {@code -0.0} included); {@link #asLong()} and
 * {@link #asInt()} parse an integer exactly and refuse a fraction, an exponent or a value out of range;
 * {@link #asBigInteger()} takes any integer (unsigned 64-bit bit patterns, for example).
 *
 * <p><b>Strict.</b> Every accessor checks the type and throws {@link IllegalStateException} naming the value's path
 * ({@code $.cases[2].hidden}) and what it is, so a fixture that changed shape fails with a readable message rather
 * than a zero or a null. Parsing refuses malformed JSON, duplicate keys, {@code NaN}/{@code Infinity} (not JSON) and
 * anything after the value, with {@link IllegalArgumentException}. Values are immutable and may be shared between
 * threads.
 */
public final class Json implements Iterable<Json> {

    /** The kind of a JSON value. */
    public enum Type {
        /** {@code {...}} */
        OBJECT,
        /** {@code [...]} */
        ARRAY,
        /** {@code "..."} */
        STRING,
        /** a number, integer or not */
        NUMBER,
        /** {@code true} or {@code false} */
        BOOLEAN,
        /** {@code null} */
        NULL
    }

    private static final JsonFactory FACTORY = new JsonFactory();

    private final Type type;
    /** Object: LinkedHashMap; array: ArrayList; string: the string; number: its text; boolean: Boolean. */
    private final Object value;
    private final boolean integral;
    private final Json parent;
    /** The key in the parent object (String) or the index in the parent array (Integer); null at the root. */
    private final Object key;

    private Json(Type type, Object value, boolean integral, Json parent, Object key) {
        this.type = type;
        this.value = value;
        this.integral = integral;
        this.parent = parent;
        this.key = key;
    }

    // ---- parsing ----

    /**
     * Parses a whole JSON text.
     *
     * @param text one JSON value, optionally surrounded by whitespace
     * @return the value
     * @throws IllegalArgumentException when the text is not one valid JSON value
     */
    public static Json parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
        try (JsonParser p = FACTORY.createParser(text)) {
            return parse(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a whole stream (UTF-8, or the UTF-16/32 that Jackson detects); does not close it.
     *
     * @param in the stream
     * @return the value
     * @throws IllegalArgumentException when the content is not one valid JSON value
     * @throws UncheckedIOException     when reading fails
     */
    public static Json parse(InputStream in) {
        if (in == null) {
            throw new IllegalArgumentException("in must not be null");
        }
        try (JsonParser p = FACTORY.createParser(in)) {
            return parse(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a file.
     *
     * @param file the file
     * @return the value
     * @throws IllegalArgumentException when the file is not one valid JSON value
     * @throws UncheckedIOException     when reading fails
     */
    public static Json parse(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a class-path resource, as {@link Class#getResourceAsStream} finds it.
     *
     * @param anchor the class to resolve {@code name} against (an absolute name, {@code /org/...}, is the usual)
     * @param name   the resource's name
     * @return the value
     * @throws IllegalStateException    when the resource is missing
     * @throws IllegalArgumentException when it is not one valid JSON value
     */
    public static Json resource(Class<?> anchor, String name) {
        try (InputStream in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("classpath resource " + name + " is missing");
            }
            return parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Json parse(JsonParser p) throws IOException {
        try {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new IllegalArgumentException("not JSON: no value");
            }
            Json root = read(p, t, null, null);
            JsonToken extra = p.nextToken();
            if (extra != null) {
                throw new IllegalArgumentException("not JSON: content after the value at "
                        + p.currentLocation().offsetDescription());
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage() + " at "
                    + (e.getLocation() == null ? "?" : e.getLocation().offsetDescription()), e);
        }
    }

    private static Json read(JsonParser p, JsonToken t, Json parent, Object key) throws IOException {
        switch (t) {
            case START_OBJECT -> {
                Map<String, Json> fields = new LinkedHashMap<>();
                Json node = new Json(Type.OBJECT, fields, false, parent, key);
                for (JsonToken n = p.nextToken(); n != JsonToken.END_OBJECT; n = p.nextToken()) {
                    String name = p.currentName();
                    Json v = read(p, p.nextToken(), node, name);
                    if (fields.put(name, v) != null) {
                        throw new IllegalArgumentException("not JSON for tests: duplicate key at " + v.path());
                    }
                }
                return node;
            }
            case START_ARRAY -> {
                List<Json> elements = new ArrayList<>();
                Json node = new Json(Type.ARRAY, elements, false, parent, key);
                for (JsonToken n = p.nextToken(); n != JsonToken.END_ARRAY; n = p.nextToken()) {
                    elements.add(read(p, n, node, elements.size()));
                }
                return node;
            }
            case VALUE_STRING -> {
                return new Json(Type.STRING, p.getText(), false, parent, key);
            }
            case VALUE_NUMBER_INT -> {
                return new Json(Type.NUMBER, p.getText(), true, parent, key);
            }
            case VALUE_NUMBER_FLOAT -> {
                return new Json(Type.NUMBER, p.getText(), false, parent, key);
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new Json(Type.BOOLEAN, t == JsonToken.VALUE_TRUE, false, parent, key);
            }
            case VALUE_NULL -> {
                return new Json(Type.NULL, null, false, parent, key);
            }
            default -> throw new IllegalArgumentException("not JSON: unexpected " + t);
        }
    }

    // ---- what it is ----

    /** @return the kind of value */
    public Type type() {
        return type;
    }

    /** @return whether this is an object */
    public boolean isObject() {
        return type == Type.OBJECT;
    }

    /** @return whether this is an array */
    public boolean isArray() {
        return type == Type.ARRAY;
    }

    /** @return whether this is a string */
    public boolean isString() {
        return type == Type.STRING;
    }

    /** @return whether this is a number */
    public boolean isNumber() {
        return type == Type.NUMBER;
    }

    /** @return whether this is a number written as an integer (no fraction, no exponent) */
    public boolean isIntegral() {
        return type == Type.NUMBER && integral;
    }

    /** @return whether this is {@code true} or {@code false} */
    public boolean isBoolean() {
        return type == Type.BOOLEAN;
    }

    /** @return whether this is {@code null} */
    public boolean isNull() {
        return type == Type.NULL;
    }

    /**
     * Where this value sits in the document, for messages: {@code $} for the root, then {@code .name} and
     * {@code [index]}, as in {@code $.cases[2].params}.
     *
     * @return the path
     */
    public String path() {
        if (parent == null) {
            return "$";
        }
        return parent.path() + (key instanceof Integer i ? "[" + i + "]" : "." + key);
    }

    // ---- containers ----

    /**
     * The field {@code name} of this object.
     *
     * @param name the field's name
     * @return its value (possibly a JSON {@code null} value, never Java's null)
     * @throws IllegalStateException when this is not an object or has no such field
     */
    public Json get(String name) {
        Json v = object().get(name);
        if (v == null) {
            throw new IllegalStateException(path() + " has no field '" + name + "' (it has " + object().keySet()
                    + ")");
        }
        return v;
    }

    /**
     * The field {@code name} of this object, or null when it has none.
     *
     * @param name the field's name
     * @return its value, or null
     * @throws IllegalStateException when this is not an object
     */
    public Json opt(String name) {
        return object().get(name);
    }

    /**
     * @param name a field's name
     * @return whether this object has the field
     * @throws IllegalStateException when this is not an object
     */
    public boolean has(String name) {
        return object().containsKey(name);
    }

    /**
     * The element {@code index} of this array.
     *
     * @param index from 0
     * @return the element
     * @throws IllegalStateException when this is not an array or the index is out of range
     */
    public Json get(int index) {
        List<Json> a = array();
        if (index < 0 || index >= a.size()) {
            throw new IllegalStateException(path() + " has " + a.size() + " elements, no [" + index + "]");
        }
        return a.get(index);
    }

    /**
     * @return the number of elements of an array or fields of an object
     * @throws IllegalStateException for any other value
     */
    public int size() {
        if (type == Type.ARRAY) {
            return array().size();
        }
        if (type == Type.OBJECT) {
            return object().size();
        }
        throw wrongType("an array or an object");
    }

    /**
     * The fields of this object in the document's order.
     *
     * @return an unmodifiable map, name to value
     * @throws IllegalStateException when this is not an object
     */
    public Map<String, Json> fields() {
        return Collections.unmodifiableMap(object());
    }

    /**
     * @return the field names of this object, in the document's order
     * @throws IllegalStateException when this is not an object
     */
    public Set<String> keys() {
        return Collections.unmodifiableSet(object().keySet());
    }

    /**
     * The elements of this array.
     *
     * @return an unmodifiable list
     * @throws IllegalStateException when this is not an array
     */
    public List<Json> elements() {
        return Collections.unmodifiableList(array());
    }

    /**
     * Iterates over the elements of this array (an object is not iterable: use {@link #fields()}).
     *
     * @throws IllegalStateException when this is not an array
     */
    @Override
    public Iterator<Json> iterator() {
        return elements().iterator();
    }

    /**
     * @return the elements of this array as a stream
     * @throws IllegalStateException when this is not an array
     */
    public Stream<Json> stream() {
        return elements().stream();
    }

    // ---- scalars ----

    /**
     * The number as {@link Double#parseDouble} reads its JSON text: the double nearest to the written decimal, so the
     * shortest representation a writer printed comes back bit for bit.
     *
     * @return the value
     * @throws IllegalStateException when this is not a number
     */
    public double asDouble() {
        return Double.parseDouble(number());
    }

    /**
     * The number as a {@code long}, exactly.
     *
     * @return the value
     * @throws IllegalStateException when this is not a number written as an integer, or does not fit a {@code long}
     */
    public long asLong() {
        String text = integer();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(path() + " = " + text + " does not fit a long");
        }
    }

    /**
     * The number as an {@code int}, exactly.
     *
     * @return the value
     * @throws IllegalStateException when this is not a number written as an integer, or does not fit an {@code int}
     */
    public int asInt() {
        String text = integer();
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(path() + " = " + text + " does not fit an int");
        }
    }

    /**
     * The number as a {@link BigInteger}, exactly (for integers beyond a {@code long}, such as unsigned 64-bit bit
     * patterns; {@code asBigInteger().longValue()} gives their two's-complement {@code long}).
     *
     * @return the value
     * @throws IllegalStateException when this is not a number written as an integer
     */
    public BigInteger asBigInteger() {
        return new BigInteger(integer());
    }

    /**
     * The number's JSON text, as written.
     *
     * @return the text
     * @throws IllegalStateException when this is not a number
     */
    public String numberText() {
        return number();
    }

    /**
     * The string's value.
     *
     * @return the string, escapes resolved
     * @throws IllegalStateException when this is not a string (a number's text is {@link #numberText()})
     */
    public String asText() {
        if (type != Type.STRING) {
            throw wrongType("a string");
        }
        return (String) value;
    }

    /**
     * @return the boolean's value
     * @throws IllegalStateException when this is not {@code true} or {@code false}
     */
    public boolean asBoolean() {
        if (type != Type.BOOLEAN) {
            throw wrongType("a boolean");
        }
        return (Boolean) value;
    }

    // ---- arrays of scalars ----

    /**
     * @return this array of numbers as doubles, each as {@link #asDouble()}
     * @throws IllegalStateException when this is not an array or an element is not a number
     */
    public double[] asDoubles() {
        List<Json> a = array();
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    /**
     * @return this array of integers as ints, each as {@link #asInt()}
     * @throws IllegalStateException when this is not an array or an element is not an integer that fits an int
     */
    public int[] asInts() {
        List<Json> a = array();
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    /**
     * @return this array of integers as longs, each as {@link #asLong()}
     * @throws IllegalStateException when this is not an array or an element is not an integer that fits a long
     */
    public long[] asLongs() {
        List<Json> a = array();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asLong();
        }
        return out;
    }

    /**
     * @return this array of strings, each as {@link #asText()}
     * @throws IllegalStateException when this is not an array or an element is not a string
     */
    public List<String> asStrings() {
        List<String> out = new ArrayList<>();
        for (Json e : array()) {
            out.add(e.asText());
        }
        return out;
    }

    /**
     * @return this object of strings as a map in the document's order, each value as {@link #asText()}
     * @throws IllegalStateException when this is not an object or a value is not a string
     */
    public Map<String, String> asStringMap() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Json> e : object().entrySet()) {
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /** @return the value as compact JSON (numbers as written, strings escaped) */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        write(b);
        return b.toString();
    }

    private void write(StringBuilder b) {
        switch (type) {
            case OBJECT -> {
                b.append('{');
                boolean first = true;
                for (Map.Entry<String, Json> e : object().entrySet()) {
                    b.append(first ? "" : ",").append('"');
                    JsonStringEncoder.getInstance().quoteAsString(e.getKey(), b);
                    b.append("\":");
                    e.getValue().write(b);
                    first = false;
                }
                b.append('}');
            }
            case ARRAY -> {
                b.append('[');
                for (int i = 0; i < array().size(); i++) {
                    b.append(i == 0 ? "" : ",");
                    array().get(i).write(b);
                }
                b.append(']');
            }
            case STRING -> {
                b.append('"');
                JsonStringEncoder.getInstance().quoteAsString((String) value, b);
                b.append('"');
            }
            case NUMBER, BOOLEAN -> b.append(value);
            case NULL -> b.append("null");
        }
    }

    // ---- internals ----

    @SuppressWarnings("unchecked")
    private Map<String, Json> object() {
        if (type != Type.OBJECT) {
            throw wrongType("an object");
        }
        return (Map<String, Json>) value;
    }

    @SuppressWarnings("unchecked")
    private List<Json> array() {
        if (type != Type.ARRAY) {
            throw wrongType("an array");
        }
        return (List<Json>) value;
    }

    private String number() {
        if (type != Type.NUMBER) {
            throw wrongType("a number");
        }
        return (String) value;
    }

    private String integer() {
        String text = number();
        if (!integral) {
            throw new IllegalStateException(path() + " = " + text + " is not an integer");
        }
        return text;
    }

    private IllegalStateException wrongType(String wanted) {
        String what = switch (type) {
            case OBJECT -> "an object";
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number, " + value;
            case BOOLEAN -> "a boolean, " + value;
            case NULL -> "null";
        };
        return new IllegalStateException(path() + " is " + what + ", not " + wanted);
    }
}
