package org.rnn4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small, strict, read-only JSON value for the metadata the library reads (checkpoint settings and generator state),
 * parsed with jackson-core's streaming parser so that the core needs no data-binding library. Strict: a repeated key,
 * anything after the value, and malformed text are refused with {@link JsonProcessingException}.
 *
 * <p>Numbers keep their text: integers as {@link BigInteger}, other numbers as {@link BigDecimal}, so
 * {@link #doubleValue()} is exactly {@link Double#parseDouble} of the text and {@link #longValue()} is exact.
 * Immutable and safe to share between threads.
 */
public final class JsonValue {

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private enum Kind { OBJECT, ARRAY, STRING, INTEGER, DECIMAL, BOOLEAN, NULL }

    private final Kind kind;
    private final Object value; // Map<String, JsonValue>, List<JsonValue>, String, BigInteger, String (decimal), Boolean

    private JsonValue(Kind kind, Object value) {
        this.kind = kind;
        this.value = value;
    }

    /**
     * Parses one JSON value.
     *
     * @param text the JSON text
     * @return the value
     * @throws JsonProcessingException when the text is not exactly one valid JSON value (repeated keys refused)
     */
    public static JsonValue parse(String text) throws JsonProcessingException {
        Objects.requireNonNull(text, "text");
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new JsonParseException(p, "no JSON value");
            }
            JsonValue v = read(p, t);
            if (p.nextToken() != null) {
                throw new JsonParseException(p, "text after the JSON value");
            }
            return v;
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a String source has no I/O errors
        }
    }

    private static JsonValue read(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT: {
                Map<String, JsonValue> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    m.put(name, read(p, p.nextToken()));
                }
                return new JsonValue(Kind.OBJECT, Collections.unmodifiableMap(m));
            }
            case START_ARRAY: {
                List<JsonValue> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    l.add(read(p, e));
                }
                return new JsonValue(Kind.ARRAY, Collections.unmodifiableList(l));
            }
            case VALUE_STRING:
                return new JsonValue(Kind.STRING, p.getText());
            case VALUE_NUMBER_INT:
                return new JsonValue(Kind.INTEGER, p.getBigIntegerValue());
            case VALUE_NUMBER_FLOAT:
                return new JsonValue(Kind.DECIMAL, p.getText());
            case VALUE_TRUE:
                return new JsonValue(Kind.BOOLEAN, Boolean.TRUE);
            case VALUE_FALSE:
                return new JsonValue(Kind.BOOLEAN, Boolean.FALSE);
            case VALUE_NULL:
                return new JsonValue(Kind.NULL, null);
            default:
                throw new JsonParseException(p, "unexpected " + t);
        }
    }

    /** @return whether this is an object */
    public boolean isObject() {
        return kind == Kind.OBJECT;
    }

    /** @return whether this is an array */
    public boolean isArray() {
        return kind == Kind.ARRAY;
    }

    /** @return whether this is a string */
    public boolean isTextual() {
        return kind == Kind.STRING;
    }

    /** @return whether this is a number (integer or not) */
    public boolean isNumber() {
        return kind == Kind.INTEGER || kind == Kind.DECIMAL;
    }

    /** @return whether this is a number written without fraction or exponent */
    public boolean isIntegralNumber() {
        return kind == Kind.INTEGER;
    }

    /** @return whether this is an integer that fits an {@code int} */
    public boolean canConvertToInt() {
        return kind == Kind.INTEGER && ((BigInteger) value).bitLength() < 32;
    }

    /** @return whether this is an integer that fits a {@code long} */
    public boolean canConvertToLong() {
        return kind == Kind.INTEGER && ((BigInteger) value).bitLength() < 64;
    }

    /**
     * @return the integer as an {@code int}
     * @throws IllegalStateException unless {@link #canConvertToInt()}
     */
    public int intValue() {
        if (!canConvertToInt()) {
            throw new IllegalStateException("not a 32-bit integer: " + this);
        }
        return ((BigInteger) value).intValue();
    }

    /**
     * @return the integer as a {@code long}
     * @throws IllegalStateException unless {@link #canConvertToLong()}
     */
    public long longValue() {
        if (!canConvertToLong()) {
            throw new IllegalStateException("not a 64-bit integer: " + this);
        }
        return ((BigInteger) value).longValue();
    }

    /**
     * @return the integer, exactly
     * @throws IllegalStateException unless {@link #isIntegralNumber()}
     */
    public BigInteger bigIntegerValue() {
        if (kind != Kind.INTEGER) {
            throw new IllegalStateException("not an integer: " + this);
        }
        return (BigInteger) value;
    }

    /**
     * @return the number as the nearest {@code double} ({@link Double#parseDouble} of its text)
     * @throws IllegalStateException unless {@link #isNumber()}
     */
    public double doubleValue() {
        if (kind == Kind.INTEGER) {
            return Double.parseDouble(value.toString());
        }
        if (kind == Kind.DECIMAL) {
            return Double.parseDouble((String) value);
        }
        throw new IllegalStateException("not a number: " + this);
    }

    /** @return the string, or {@code null} when this is not a string */
    public String textValue() {
        return kind == Kind.STRING ? (String) value : null;
    }

    /**
     * @param key a member name
     * @return the member of this object, or {@code null} when there is none or this is not an object
     */
    @SuppressWarnings("unchecked")
    public JsonValue get(String key) {
        return kind == Kind.OBJECT ? ((Map<String, JsonValue>) value).get(key) : null;
    }

    /**
     * @param index a position
     * @return the element of this array, or {@code null} when out of range or this is not an array
     */
    @SuppressWarnings("unchecked")
    public JsonValue get(int index) {
        if (kind != Kind.ARRAY) {
            return null;
        }
        List<JsonValue> l = (List<JsonValue>) value;
        return index >= 0 && index < l.size() ? l.get(index) : null;
    }

    /** @return the number of members or elements; 0 for anything else */
    @SuppressWarnings("unchecked")
    public int size() {
        return switch (kind) {
            case OBJECT -> ((Map<String, JsonValue>) value).size();
            case ARRAY -> ((List<JsonValue>) value).size();
            default -> 0;
        };
    }

    /** @return this object's members in the order of the text; empty for anything else */
    @SuppressWarnings("unchecked")
    public Iterator<Map.Entry<String, JsonValue>> fields() {
        return kind == Kind.OBJECT ? ((Map<String, JsonValue>) value).entrySet().iterator()
                : Collections.emptyIterator();
    }

    @Override
    public String toString() {
        return switch (kind) {
            case STRING -> '"' + (String) value + '"';
            case NULL -> "null";
            case OBJECT, ARRAY -> kind.name().toLowerCase(java.util.Locale.ROOT) + " of " + size();
            default -> String.valueOf(value);
        };
    }
}
