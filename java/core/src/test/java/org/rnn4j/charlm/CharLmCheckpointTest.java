package org.rnn4j.charlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Precision;
import org.rnn4j.io.AtomicFile;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.io.Safetensors;
import org.rnn4j.io.Tensor;

/** The checkpoint's content, its checks on reading, and that saving never loses the last good checkpoint. */
class CharLmCheckpointTest {

    private static final String TEXT = CharLmFixtures.text(400);

    @TempDir
    Path dir;

    @AfterEach
    void removeHook() {
        AtomicFile.injectFaults(null);
    }

    static CharLmCheckpoint small(Precision p, int steps) {
        return CharLmFixtures.trained(CharLmFixtures.tiny("adam", 1.0, 0.25, p), TEXT, steps);
    }

    @Test
    void holdsTheListedTensorsAndMetadataAndNothingRunVarying() throws Exception {
        CharLmCheckpoint ck = small(Precision.FLOAT32, 2);
        Safetensors st = ck.toSafetensors();
        assertEquals(List.of("format", "format_version", "generator", "optimizer_steps", "settings", "step",
                "text_sha256", "vocabulary"), new ArrayList<>(st.metadata().keySet()));
        assertEquals("rnn4j-charlm", st.metadata().get("format"));
        assertEquals("1", st.metadata().get("format_version"));
        assertEquals("2", st.metadata().get("step"));
        assertEquals("2", st.metadata().get("optimizer_steps"));
        assertEquals(CharLmFixtures.sha256(TEXT), st.metadata().get("text_sha256"));
        assertEquals("{\"layers\":2,\"hidden\":8,\"embedding\":5,\"seq_len\":7,\"batch\":3,\"optimizer\":\"adam\","
                + "\"lr\":0.01,\"clip\":1.0,\"dropout\":0.25,\"val_fraction\":0.1,\"seed\":11,\"precision\":\"float32\","
                + "\"betas\":[0.9,0.999],\"eps\":1e-08}", st.metadata().get("settings"));
        assertTrue(st.metadata().get("generator").matches("\\{\"dropout_seed\":-?\\d+,\"dropout_offset\":[1-9]\\d*}"),
                st.metadata().get("generator"));
        int v = ck.vocabulary().size();
        assertArrayEquals(new long[] {v, 5}, st.tensor("embedding.weight").shape());
        assertArrayEquals(new long[] {32, 5}, st.tensor("lstm.weight_ih_l0").shape());
        assertArrayEquals(new long[] {32, 8}, st.tensor("lstm.weight_ih_l1").shape());
        assertArrayEquals(new long[] {32}, st.tensor("lstm.bias_hh_l1").shape());
        assertArrayEquals(new long[] {v, 8}, st.tensor("head.weight").shape());
        assertArrayEquals(new long[] {v}, st.tensor("optimizer.exp_avg_sq.head.bias").shape());
        assertArrayEquals(new long[] {2, 3, 8}, st.tensor("state.c").shape());
        assertEquals(11 * 3 + 2, st.tensors().size()); // 11 parameters, their two moments, the state
        for (Tensor t : st.tensors().values()) {
            assertEquals(org.rnn4j.io.DType.F32, t.dtype());
        }
        // the same run gives the same bytes
        assertArrayEquals(st.toBytes(), small(Precision.FLOAT32, 2).toSafetensors().toBytes());
        Path f = dir.resolve("ck.safetensors");
        ck.save(f, "--checkpoint");
        assertArrayEquals(st.toBytes(), Files.readAllBytes(f));
        assertArrayEquals(st.toBytes(), CharLmCheckpoint.read(f).toSafetensors().toBytes());
    }

    @Test
    void plainSgdKeepsNoOptimizerTensors() throws Exception {
        CharLmCheckpoint ck = CharLmFixtures.trained(CharLmFixtures.tiny("sgd", 0, 0, Precision.FLOAT64), TEXT, 2);
        Safetensors st = ck.toSafetensors();
        assertEquals(11 + 2, st.tensors().size());
        assertFalse(st.metadata().get("settings").contains("betas"));
        assertArrayEquals(st.toBytes(), CharLmCheckpoint.of(Safetensors.parse(st.toBytes(), "f"), "f")
                .toSafetensors().toBytes());
    }

    static Stream<Arguments> broken() {
        Consumer<Map<String, String>> none = m -> { };
        return Stream.of(
                Arguments.of("missing tensor 'lstm.bias_hh_l1'", tensors(t -> t.remove("lstm.bias_hh_l1")), none),
                Arguments.of("missing tensor 'optimizer.exp_avg.head.bias'",
                        tensors(t -> t.remove("optimizer.exp_avg.head.bias")), none),
                Arguments.of("unexpected tensor 'lstm.weight_ih_l2'",
                        tensors(t -> t.put("lstm.weight_ih_l2", Tensor.ofFloats(new float[1], 1))), none),
                Arguments.of("tensor 'head.bias' has shape [1, ",
                        tensors(t -> t.put("head.bias", reshaped(t.get("head.bias")))), none),
                Arguments.of("tensor 'state.h' is F64, but the settings' precision asks for F32",
                        tensors(t -> t.put("state.h", Tensor.ofDoubles(new double[48], 2, 3, 8))), none),
                Arguments.of("tensor 'head.weight' holds NaN at element 3 (not finite)",
                        tensors(t -> t.put("head.weight", poisoned(t.get("head.weight"), 3, Float.NaN))), none),
                Arguments.of("tensor 'optimizer.exp_avg_sq.head.bias' holds -1.0 at element 0",
                        tensors(t -> t.put("optimizer.exp_avg_sq.head.bias",
                                poisoned(t.get("optimizer.exp_avg_sq.head.bias"), 0, -1f))), none),
                Arguments.of("not an rnn4j character-model checkpoint: its metadata has no 'format'", same(),
                        meta(m -> m.remove("format"))),
                Arguments.of("not an rnn4j character-model checkpoint: its format is 'pytorch'", same(),
                        meta(m -> m.put("format", "pytorch"))),
                Arguments.of("format version '2' is not one this rnn4j reads (it reads 1)", same(),
                        meta(m -> m.put("format_version", "2"))),
                Arguments.of("metadata 'vocabulary': the vocabulary is not valid", same(),
                        meta(m -> m.put("vocabulary", "[98,97]"))),
                Arguments.of("metadata 'vocabulary': the vocabulary is not valid JSON", same(),
                        meta(m -> m.put("vocabulary", "[98,"))),
                Arguments.of("tensor 'embedding.weight' has shape", same(),
                        meta(m -> m.put("vocabulary", m.get("vocabulary").replace("[", "[0,")))),
                Arguments.of("metadata 'settings': the settings are not valid: hidden must be at least 1, got 0",
                        same(), meta(m -> m.put("settings", m.get("settings").replace("\"hidden\":8", "\"hidden\":0")))),
                Arguments.of("metadata 'settings': the settings lack 'seq_len'", same(),
                        meta(m -> m.put("settings", m.get("settings").replace("\"seq_len\":7,", "")))),
                Arguments.of("metadata 'settings': the settings have an unknown key 'momentum'", same(),
                        meta(m -> m.put("settings", m.get("settings").replace("}", ",\"momentum\":0.9}")))),
                Arguments.of("metadata 'settings': the settings' Adam betas must be [0.9, 0.999]", same(),
                        meta(m -> m.put("settings", m.get("settings").replace("0.999", "0.99")))),
                Arguments.of("tensor 'state.h' has shape [2, 3, 8], but the settings and vocabulary ask for [2, 4, 8]",
                        same(), meta(m -> m.put("settings", m.get("settings").replace("\"batch\":3", "\"batch\":4")))),
                Arguments.of("metadata 'text_sha256' is not 64 lowercase hexadecimal digits", same(),
                        meta(m -> m.put("text_sha256", m.get("text_sha256").toUpperCase()))),
                Arguments.of("metadata 'step' is '-1', not a count", same(), meta(m -> m.put("step", "-1"))),
                Arguments.of("metadata 'optimizer_steps' (3) is above 'step' (2)", same(),
                        meta(m -> m.put("optimizer_steps", "3"))),
                Arguments.of("metadata 'generator' must hold the integers", same(),
                        meta(m -> m.put("generator", "{\"dropout_seed\":1,\"dropout_offset\":-4}"))),
                Arguments.of("metadata lacks 'generator'", same(), meta(m -> m.remove("generator"))),
                Arguments.of("unknown metadata key 'time'", same(), meta(m -> m.put("time", "now"))));
    }

    private static Consumer<Map<String, Tensor>> tensors(Consumer<Map<String, Tensor>> c) {
        return c;
    }

    private static Consumer<Map<String, Tensor>> same() {
        return t -> { };
    }

    private static Consumer<Map<String, String>> meta(Consumer<Map<String, String>> c) {
        return c;
    }

    private static Tensor reshaped(Tensor t) {
        return Tensor.ofBytes(t.dtype(), t.toBytes(), 1, t.elementCount());
    }

    private static Tensor poisoned(Tensor t, int at, float v) {
        float[] f = t.toFloats();
        f[at] = v;
        return Tensor.ofFloats(f, t.shape());
    }

    /** Each problem is refused with one line naming the file and the problem. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("broken")
    void refusesWithOneLineNamingTheFileAndTheProblem(String expected, Consumer<Map<String, Tensor>> editTensors,
                                                      Consumer<Map<String, String>> editMeta) throws Exception {
        Safetensors st = small(Precision.FLOAT32, 2).toSafetensors();
        Map<String, Tensor> t = new LinkedHashMap<>(st.tensors());
        Map<String, String> m = new LinkedHashMap<>(st.metadata());
        editTensors.accept(t);
        editMeta.accept(m);
        Path f = dir.resolve("broken.safetensors");
        Files.write(f, new Safetensors(t, m).toBytes());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CharLmCheckpoint.read(f));
        assertTrue(e.getMessage().startsWith(f + ": " + expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aFileThatIsNotSafetensorsIsRefusedByTheFormatsChecks() throws Exception {
        Path f = dir.resolve("text.safetensors");
        Files.writeString(f, "hello, this is not a checkpoint at all");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CharLmCheckpoint.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> CharLmCheckpoint.read(dir.resolve("none")));
        assertTrue(missing.getMessage().contains("none"), missing.getMessage());
    }

    // ------------------------------------------------------------------------------------------ saving safely

    /**
     * Fails the save at each point (every write call of the content, before the fsync, before and after the rename)
     * and checks after each that the target loads whole: the previous checkpoint when the failure came before the
     * rename, the new one after. At every point it also checks the target as a kill at that moment would leave it
     * (the hook looks before failing), and that no temporary file stays behind a failed save.
     */
    @ParameterizedTest
    @EnumSource(AtomicFile.Stage.class)
    void aSaveThatFailsAtAnyPointLeavesTheOldOrTheNewCheckpointWhole(AtomicFile.Stage failAt) throws Exception {
        CharLmCheckpoint oldCk = small(Precision.FLOAT64, 1);
        CharLmCheckpoint newCk = small(Precision.FLOAT64, 2);
        byte[] oldBytes = oldCk.toSafetensors().toBytes();
        byte[] newBytes = newCk.toSafetensors().toBytes();
        Path target = dir.resolve("ck.safetensors");
        int writes = countWrites(newCk);
        assertTrue(writes > 3, "the content is written in several calls: " + writes);
        int cases = failAt == AtomicFile.Stage.WRITE ? writes : 1;
        for (int nth = 1; nth <= cases; nth++) {
            Files.write(target, oldBytes);
            int[] seen = {0};
            int failOn = nth;
            List<String> kills = new ArrayList<>();
            AtomicFile.injectFaults((stage, t) -> {
                // a kill now would leave the target as it is: it must load whole, old or new
                byte[] now = Files.readAllBytes(target);
                kills.add(stage + (java.util.Arrays.equals(now, oldBytes) ? ":old"
                        : java.util.Arrays.equals(now, newBytes) ? ":new" : ":NEITHER"));
                if (stage == failAt && ++seen[0] == failOn) {
                    throw new IOException("injected failure at " + stage);
                }
            });
            IOException e = assertThrows(IOException.class, () -> newCk.save(target, "--checkpoint"));
            AtomicFile.injectFaults(null);
            assertTrue(e.getMessage().contains("injected failure at " + failAt), e.getMessage());
            assertTrue(e.getMessage().startsWith("--checkpoint: "), e.getMessage());
            boolean renamed = failAt == AtomicFile.Stage.AFTER_RENAME;
            assertArrayEquals(renamed ? newBytes : oldBytes, CharLmCheckpoint.read(target).toSafetensors().toBytes(),
                    "after a failure at " + failAt);
            for (String k : kills) {
                assertFalse(k.endsWith("NEITHER"), kills.toString());
                assertTrue(k.endsWith(k.startsWith("AFTER_RENAME") ? ":new" : ":old"), kills.toString());
            }
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(target), files.toList(), "no temporary file is left");
            }
        }
        // and without a fault the same save goes through
        newCk.save(target, "--checkpoint");
        assertArrayEquals(newBytes, Files.readAllBytes(target));
    }

    private int countWrites(CharLmCheckpoint ck) throws Exception {
        int[] n = {0};
        AtomicFile.injectFaults((stage, t) -> {
            if (stage == AtomicFile.Stage.WRITE) {
                n[0]++;
            }
        });
        try {
            ck.save(dir.resolve("count.safetensors"), "--checkpoint");
        } finally {
            AtomicFile.injectFaults(null);
        }
        Files.delete(dir.resolve("count.safetensors"));
        return n[0];
    }
}
