package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What rnn4j writes, numpy reads (tools/safetensors_numpy.py, numpy only) to the same bits, and the other way round.
 * Skipped, with the reason, where python3 or numpy is missing.
 */
class SafetensorsPythonTest {

    @TempDir
    Path dir;

    @Test
    void numpyReadsWhatWeWriteBitForBit() throws Exception {
        PythonScripts.assumePython(true);
        Map<String, Tensor> t = new LinkedHashMap<>();
        float[] f = {0.1f, -3.5e-39f, Float.MAX_VALUE, -0f, 1f / 3, 42};
        double[] d = {Math.PI, -1e-310, Double.MIN_VALUE, 1e300};
        t.put("lstm.weight_ih_l0", Tensor.ofFloats(f, 2, 3));
        t.put("head.bias", Tensor.ofDoubles(d, 4));
        t.put("step", Tensor.ofLongs(new long[] {Long.MIN_VALUE + 1}));
        t.put("state.h", Tensor.ofInts(new int[] {-7, 0, 7}, 3, 1, 1));
        t.put("empty", Tensor.ofFloats(new float[0], 2, 0));
        Map<String, String> meta = Map.of("format", "rnn4j", "text", "h\u00e9 \uD835\uDD38\n\"\\\u0007");
        Path file = dir.resolve("we-wrote.safetensors");
        new Safetensors(t, meta).save(file, "--checkpoint");

        PythonScripts.Result r = PythonScripts.script("safetensors_numpy.py", "dump", file.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        JsonNode dump = new ObjectMapper().readTree(r.stdout());
        assertEquals(meta, new ObjectMapper().convertValue(dump.get("metadata"), Map.class));
        assertEquals(List.of("step", "head.bias", "empty", "lstm.weight_ih_l0", "state.h"), strings(dump.get("order")));
        JsonNode w = dump.get("tensors").get("lstm.weight_ih_l0");
        assertEquals("F32", w.get("dtype").asText());
        assertEquals(List.of(2L, 3L), longs(w.get("shape")));
        for (int i = 0; i < f.length; i++) {
            assertEquals(Integer.toUnsignedLong(Float.floatToRawIntBits(f[i])), w.get("bits").get(i).asLong());
            assertEquals((double) f[i], w.get("values").get(i).asDouble());
        }
        JsonNode b = dump.get("tensors").get("head.bias");
        for (int i = 0; i < d.length; i++) {
            assertEquals(Double.doubleToRawLongBits(d[i]), b.get("bits").get(i).bigIntegerValue().longValue());
            assertEquals(d[i], b.get("values").get(i).asDouble());
        }
        assertEquals(List.of(Long.MIN_VALUE + 1), longs(dump.get("tensors").get("step").get("values")));
        assertEquals(List.of(), longs(dump.get("tensors").get("step").get("shape")));
        assertEquals(List.of(-7L, 0L, 7L), longs(dump.get("tensors").get("state.h").get("values")));
        assertEquals(List.of(3L, 1L, 1L), longs(dump.get("tensors").get("state.h").get("shape")));
        assertEquals(List.of(2L, 0L), longs(dump.get("tensors").get("empty").get("shape")));
    }

    @Test
    void weReadWhatNumpyWritesAndWriteTheSameBytes() throws Exception {
        PythonScripts.assumePython(true);
        Path file = dir.resolve("numpy-wrote.safetensors");
        PythonScripts.Result r = PythonScripts.script("safetensors_numpy.py", "write-sample", file.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        Safetensors s = Safetensors.read(file);
        float[] thirds = new float[6];
        for (int i = 0; i < 6; i++) {
            thirds[i] = i / 3f;
        }
        assertArrayEquals(thirds, s.tensor("w.f32").toFloats());
        assertArrayEquals(new double[] {0.1, -2.5e-300, Math.PI, -0.0}, s.tensor("w.f64").toDoubles());
        assertArrayEquals(new long[] {2, 2}, s.tensor("w.f64").shape());
        assertArrayEquals(new long[] {7}, s.tensor("step").toLongs());
        assertEquals(0, s.tensor("step").shape().length);
        assertArrayEquals(new int[] {-1, 2, 3}, s.tensor("counts").toInts());
        assertArrayEquals(new long[] {0, 4}, s.tensor("empty").shape());
        assertEquals(Map.of("format", "numpy-sample", "unicode", "h\u00e9llo \uD835\uDD38 \"quoted\"\n"), s.metadata());
        // both writers follow the reference layout, so rewriting gives the file numpy wrote, byte for byte
        assertArrayEquals(Files.readAllBytes(file), new Safetensors(s.tensors(), s.metadata()).toBytes());
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<Long> longs(JsonNode array) {
        List<Long> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asLong()));
        return out;
    }
}
