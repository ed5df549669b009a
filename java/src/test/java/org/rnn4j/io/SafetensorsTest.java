package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors writer's exact output and the reader's refusals, one rule at a time. */
class SafetensorsTest {

    @TempDir
    Path dir;

    static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /** A file: the header's length, the header text and {@code data} zero bytes. */
    static byte[] file(String header, int data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    static String problem(byte[] bytes) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> Safetensors.parse(bytes, "ck.safetensors"));
        assertTrue(e.getMessage().startsWith("ck.safetensors: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.problem();
    }

    // ------------------------------------------------------------------------------------------------ writing

    @Test
    void writesTheReferenceImplementationsBytes() throws Exception {
        // huggingface/safetensors, safetensors/src/tensor.rs, test_serialization: "attn.0", F32 [1, 2, 3], 0..5
        byte[] expected = {64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, (byte) 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, (byte) 128, 64, 0, 0, (byte) 160, 64};
        Safetensors s = new Safetensors(Map.of("attn.0", Tensor.ofFloats(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)),
                Map.of());
        assertArrayEquals(expected, s.toBytes());
        // test_empty, without and with metadata
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32},
                new Safetensors(Map.of(), Map.of()).toBytes());
        byte[] withMetadata = {40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32};
        assertArrayEquals(withMetadata, new Safetensors(Map.of(), Map.of("framework", "pt")).toBytes());
        Safetensors back = Safetensors.parse(expected, "x");
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, back.tensor("attn.0").toFloats());
        assertArrayEquals(new long[] {1, 2, 3}, back.tensor("attn.0").shape());
    }

    @Test
    void roundTripsEveryWrittenTypeWithMetadata() throws Exception {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("a.f32", Tensor.ofFloats(new float[] {1.5f, -0f, Float.NaN, Float.MIN_VALUE, 3, 4}, 3, 2));
        t.put("b.f64", Tensor.ofDoubles(new double[] {Math.PI, -1e-300, Double.POSITIVE_INFINITY}, 3));
        t.put("c.i32", Tensor.ofInts(new int[] {Integer.MIN_VALUE, 7}, 2));
        t.put("step", Tensor.ofLongs(new long[] {Long.MAX_VALUE}));
        t.put("empty", Tensor.ofFloats(new float[0], 0, 5));
        Map<String, String> meta = Map.of("format", "rnn4j-charlm", "vocabulary", "[10,32,97]",
                "odd \"key\"\n", "h\u00e9 \uD835\uDD38 \u0001 \\");
        Safetensors s = new Safetensors(t, meta);
        Path f = dir.resolve("ck.safetensors");
        s.save(f, "--checkpoint");
        Safetensors back = Safetensors.read(f);
        assertEquals(t, back.tensors());
        assertEquals(meta, back.metadata());
        assertEquals(List.of("step", "b.f64", "a.f32", "empty", "c.i32"), List.copyOf(back.tensors().keySet()),
                "laid out by decreasing alignment (I64, F64, F32, I32), then name");
        assertEquals(0, back.tensor("step").shape().length);
        assertArrayEquals(new long[] {Long.MAX_VALUE}, back.tensor("step").toLongs());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(back.tensor("a.f32").toFloats()[1]));
        assertArrayEquals(s.toBytes(), Files.readAllBytes(f));
        assertEquals(0, (ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN).getLong()) % 8,
                "the header is padded to a multiple of 8 bytes");
        assertThrows(IllegalStateException.class, () -> back.tensor("a.f32").toDoubles());
    }

    @Test
    void theSameContentGivesTheSameBytesInAnyOrder() {
        Map<String, Tensor> one = new LinkedHashMap<>();
        Map<String, Tensor> two = new LinkedHashMap<>();
        Map<String, String> m1 = new LinkedHashMap<>();
        Map<String, String> m2 = new LinkedHashMap<>();
        String[] names = {"z", "a", "\uFB00", "\uD835\uDD38", "B", "\u00e9"};
        for (int i = 0; i < names.length; i++) {
            one.put(names[i], Tensor.ofFloats(new float[] {i}, 1));
            m1.put(names[i], "v" + i);
        }
        for (int i = names.length - 1; i >= 0; i--) {
            two.put(names[i], Tensor.ofFloats(new float[] {i}, 1));
            m2.put(names[i], "v" + i);
        }
        Safetensors a = new Safetensors(one, m1);
        assertArrayEquals(a.toBytes(), new Safetensors(two, m2).toBytes());
        // UTF-8 byte order: U+FB00 (EF AC 80) before U+1D538 (F0 9D 94 B8); UTF-16 order would be the other way
        assertEquals(List.of("B", "a", "z", "\u00e9", "\uFB00", "\uD835\uDD38"), List.copyOf(a.tensors().keySet()));
        assertEquals(List.of("B", "a", "z", "\u00e9", "\uFB00", "\uD835\uDD38"), List.copyOf(a.metadata().keySet()));
    }

    @Test
    void refusesNamesAndShapesItCannotWrite() {
        Tensor t = Tensor.ofFloats(new float[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> new Safetensors(Map.of("__metadata__", t), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Safetensors(Map.of("a\uD800", t), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Safetensors(Map.of(), Map.of("k", "\uDC00")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ofFloats(new float[] {1, 2, 3}, 2, 2));
        assertTrue(e.getMessage().startsWith("shape"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloats(new float[0], -1, 0));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.ofFloats(new float[] {1}, Long.MAX_VALUE, Long.MAX_VALUE, 2));
    }

    // ------------------------------------------------------------------------------------------------ reading

    private static final String T = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @Test
    void acceptsWhatTheFormatAllows() throws Exception {
        assertEquals(2, Safetensors.parse(file(T, 8), "x").tensor("t").elementCount());
        assertEquals(2, Safetensors.parse(file(T + "        ", 8), "x").tensor("t").elementCount(),
                "padding spaces after the object");
        Safetensors two = Safetensors.parse(file("{\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]},"
                + "\"a\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]},\"__metadata__\":null}", 5), "x");
        assertEquals(List.of("a", "b"), List.copyOf(two.tensors().keySet()), "in data order, whatever the header's");
        assertTrue(two.metadata().isEmpty());
        Safetensors empty = Safetensors.parse(file("{\"e\":{\"dtype\":\"F64\",\"shape\":[3,0],"
                + "\"data_offsets\":[0,0]}}", 0), "x");
        assertEquals(0, empty.tensor("e").elementCount());
        assertEquals("F64[3, 0]", empty.tensor("e").toString());
    }

    @Test
    void refusesEachBrokenRuleWithOneLineNamingIt() {
        assertTrue(problem(new byte[5]).startsWith("truncated: 5 bytes"));
        byte[] huge = file(T, 8);
        System.arraycopy(le(100_000_001L), 0, huge, 0, 8);
        assertTrue(problem(huge).contains("header length 100000001 is above the limit"));
        System.arraycopy(le(-1L), 0, huge, 0, 8);
        assertTrue(problem(huge).contains("header length 18446744073709551615 is above"));
        System.arraycopy(le(10_000), 0, huge, 0, 8);
        assertTrue(problem(huge).contains("runs past the end of the file"));
        byte[] notUtf8 = file("{\"t\u00e9\":{}}", 0);
        notUtf8[8 + 3] = (byte) 0xC3;
        notUtf8[8 + 4] = (byte) 0x28;
        assertEquals("the header is not valid UTF-8 (at byte 11 of the file)", problem(notUtf8));
        assertTrue(problem(file("[1,2]   ", 0)).contains("does not start with '{'"));
        assertTrue(problem(file("{\"t\":", 0)).startsWith("the header is not valid JSON"));
        assertTrue(problem(file("{} {}", 0)).contains("more than one JSON value"));
        assertTrue(problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}", 8)).contains("key 'a' twice"));
        assertTrue(problem(file(T.replace("F32", "F33"), 8)).contains("unknown or unsupported dtype 'F33'"));
        assertTrue(problem(file(T.replace("\"F32\"", "32"), 8)).contains("dtype is not a string"));
        assertTrue(problem(file(T.replace("[2]", "[-2]"), 8)).contains("shape holds -2, not an integer"));
        assertTrue(problem(file(T.replace("[2]", "[2.0]"), 8)).contains("shape holds the number 2.0"));
        assertTrue(problem(file(T.replace("[2]", "[99999999999999999999]"), 8)).contains("not an integer from 0"));
        assertTrue(problem(file(T.replace("[2]", "[4294967296,4294967296]"), 8)).contains("overflows"));
        assertTrue(problem(file(T.replace("[2]", "[3037000500,3037000500]"), 8)).contains("overflows"),
                "the element count fits a long, its byte size does not");
        assertEquals("tensor 't': shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8",
                problem(file(T.replace("[2]", "[3]"), 8)));
        assertTrue(problem(file(T.replace("[0,8]", "[0,8,9]"), 8)).contains("has 3 numbers, not 2"));
        assertTrue(problem(file(T.replace("[0,8]", "[8,0]"), 8)).contains("end before they begin"));
        assertTrue(problem(file(T, 4)).contains("run past the end of the data (4 bytes)"));
        assertTrue(problem(file(T, 12)).contains("cover 8 bytes of data, but the file holds 12"));
        assertTrue(problem(file(T.replace("[0,8]", "[4,12]"), 12)).contains("bytes [0, 4) unused"));
        assertTrue(problem(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).contains("overlap"));
        assertTrue(problem(file(T.replace("\"shape\":[2],", ""), 8)).contains("no shape"));
        assertTrue(problem(file(T.replace("\"shape\"", "\"shape\":[2],\"shape\""), 8)).contains("shape is given twice"));
        assertTrue(problem(file(T.replace("}}", ",\"extra\":1}}"), 8)).contains("unexpected key 'extra'"));
        assertTrue(problem(file("{\"t\":[1]}", 0)).contains("not an object"));
        assertTrue(problem(file("{\"__metadata__\":{\"k\":1}}", 0)).contains("the value of 'k' is not a string"));
        assertTrue(problem(file("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0)).contains("'k' twice"));
        assertTrue(problem(file("{\"__metadata__\":[]}", 0)).contains("not an object of strings"));
        assertTrue(problem(file("{\"__metadata__\":{\"k\":\"\\ud800\"}}", 0)).contains("unpaired surrogate"));
        assertTrue(problem(file("{\"t\\n\\u0000\":1}", 0)).contains("tensor 't\\u000a\\u0000'"),
                "control characters in names are escaped in the message");
    }

    @Test
    void readingAPathSaysWhatIsWrongWithIt() throws Exception {
        IOException missing = assertThrows(IOException.class, () -> Safetensors.read(dir.resolve("none")));
        assertTrue(missing.getMessage().endsWith("none': no such file"), missing.getMessage());
        IOException directory = assertThrows(IOException.class, () -> Safetensors.read(dir));
        assertTrue(directory.getMessage().endsWith("it is a directory"), directory.getMessage());
        Path cut = dir.resolve("cut.safetensors");
        byte[] whole = new Safetensors(Map.of("t", Tensor.ofDoubles(new double[] {1, 2}, 2)), Map.of()).toBytes();
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 1));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Safetensors.read(cut));
        assertEquals(cut.toString(), e.file());
        assertTrue(e.getMessage().startsWith(cut + ": tensor 't'"), e.getMessage());
    }
}
