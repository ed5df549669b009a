package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.charlm.CharLmCheckpoint;
import org.rnn4j.charlm.CharLmFixtures;
import org.rnn4j.charlm.CharLmSampler;

/** {@code rnn4j train charlm} and {@code rnn4j sample} as a user meets them. */
class CharLmCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] TINY = {"--layers", "2", "--hidden", "8", "--embedding", "4", "--seq-len", "6",
        "--batch", "3", "--val-every", "4", "--val-fraction", "0.2", "--dropout", "0.2", "--backend", "cpu"};

    @TempDir
    Path dir;
    Path text;

    @BeforeEach
    void writeText() throws IOException {
        text = dir.resolve("text.txt");
        Files.writeString(text, CharLmFixtures.text(900), StandardCharsets.UTF_8);
    }

    private CliTest.Run train(String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "charlm", "--text", text.toString()));
        List<String> given = Arrays.asList(extra);
        for (int i = 0; i < TINY.length; i += 2) {
            if (!given.contains(TINY[i])) { // an option given here replaces the tiny default
                args.add(TINY[i]);
                args.add(TINY[i + 1]);
            }
        }
        args.addAll(given);
        return CliTest.run(args.toArray(String[]::new));
    }

    @Test
    void trainsWithProgressTraceSummaryAndCheckpoint() throws Exception {
        Path ck = dir.resolve("ck.safetensors");
        Path trace = dir.resolve("trace.jsonl");
        Path summary = dir.resolve("summary.json");
        CliTest.Run r = train("--steps", "10", "--checkpoint", ck.toString(), "--trace", trace.toString(),
                "--summary", summary.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("rnn4j train charlm: CPU"), r.out());
        assertTrue(r.out().contains("step  4/10  loss "), r.out());
        assertTrue(r.out().contains(" bits/char "), r.out());
        assertTrue(r.out().contains(" chars/s "), r.out());
        assertTrue(r.out().contains(" left"), r.out());
        assertTrue(r.out().contains("checkpoint: '" + ck + "' (step 10)"), r.out());
        List<String> lines = Files.readAllLines(trace);
        assertEquals(10, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode o = JSON.readTree(lines.get(i));
            assertEquals(i + 1, o.get("step").asInt());
            assertTrue(lines.get(i).startsWith("{\"step\": " + (i + 1) + ", \"loss\": "), lines.get(i));
            assertTrue(o.get("loss").asDouble() > 0 && o.get("grad_norm").asDouble() > 0);
            boolean validates = (i + 1) % 4 == 0 || i + 1 == 10;
            assertEquals(validates, o.has("val_loss"), lines.get(i));
            if (validates) {
                assertEquals(o.get("val_loss").asDouble() / Math.log(2), o.get("val_bpc").asDouble(), 1e-12);
            }
        }
        JsonNode s = JSON.readTree(Files.readString(summary));
        assertEquals(10, s.get("steps").asInt());
        assertEquals("charlm", s.get("network").asText());
        assertEquals(8, s.get("settings").get("hidden").asInt());
        assertTrue(s.get("chars_per_second").asDouble() > 0);
        assertEquals(JSON.readTree(lines.get(9)).get("val_loss").asDouble(), s.get("val_loss").asDouble());
        CharLmCheckpoint read = CharLmCheckpoint.read(ck);
        assertEquals(10, read.step());
        assertEquals(0.2, read.settings().dropout());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(4, files.count(), "no temporary file left");
        }
    }

    /** The resume test through the command line: 2N in one run equals N, then --resume to 2N, bit for bit. */
    @ParameterizedTest
    @ValueSource(strings = {"float32", "float64"})
    void resumingEqualsAnUninterruptedRunBitForBit(String precision) throws Exception {
        Path whole = dir.resolve("whole.safetensors");
        Path half = dir.resolve("half.safetensors");
        Path wholeTrace = dir.resolve("whole.jsonl");
        Path resumedTrace = dir.resolve("resumed.jsonl");
        assertEquals(0, train("--steps", "34", "--precision", precision, "--checkpoint", whole.toString(),
                "--trace", wholeTrace.toString()).code());
        assertEquals(0, train("--steps", "17", "--precision", precision, "--checkpoint", half.toString()).code());
        byte[] halfBytes = Files.readAllBytes(half);
        // the resumed run takes its settings from the checkpoint: repeating them is fine, leaving them out too
        CliTest.Run r = CliTest.run("train", "charlm", "--text", text.toString(), "--steps", "34", "--resume",
                half.toString(), "--hidden", "8", "--backend", "cpu", "--val-every", "4", "--trace",
                resumedTrace.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming '" + half + "' at step 17 of 34"), r.out());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(half), "--checkpoint defaults to the "
                + "resumed file, which must equal the uninterrupted run's");
        assertFalse(Arrays.equals(halfBytes, Files.readAllBytes(half)));
        List<String> all = Files.readAllLines(wholeTrace);
        assertEquals(all.subList(17, 34), Files.readAllLines(resumedTrace), "the resumed run traces its own steps, "
                + "the same values");
    }

    @Test
    void stepsZeroWritesTheInitialModel() throws Exception {
        Path ck = dir.resolve("init.safetensors");
        CliTest.Run r = train("--steps", "0", "--checkpoint", ck.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote the initial model to '" + ck + "' (step 0)"), r.out());
        CharLmCheckpoint c = CharLmCheckpoint.read(ck);
        assertEquals(0, c.step());
        assertTrue(Arrays.stream(c.expAvg().get("head.weight")).allMatch(v -> v == 0));
        assertTrue(Arrays.stream(c.stateH()).allMatch(v -> v == 0));
        // and resuming from it is the same as not stopping
        Path direct = dir.resolve("direct.safetensors");
        assertEquals(0, train("--steps", "3", "--checkpoint", direct.toString()).code());
        assertEquals(0, CliTest.run("train", "charlm", "--text", text.toString(), "--steps", "3", "--resume",
                ck.toString(), "--backend", "cpu").code());
        assertArrayEquals(Files.readAllBytes(direct), Files.readAllBytes(ck));
    }

    @Test
    void aLossThatIsNotFiniteStopsWithExitOneAndKeepsTheLastCheckpoint() throws Exception {
        Path ck = dir.resolve("nan.safetensors");
        Path trace = dir.resolve("nan.jsonl");
        CliTest.Run r = CliTest.run("train", "charlm", "--text", text.toString(), "--layers", "1", "--hidden", "8",
                "--embedding", "4", "--seq-len", "6", "--batch", "3", "--optimizer", "sgd", "--lr", "1e30",
                "--clip", "0", "--save-every", "1", "--steps", "20", "--backend", "cpu", "--checkpoint",
                ck.toString(), "--trace", trace.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().matches("rnn4j: error: step (\\d+): the (loss|gradient norm) is (NaN|Infinity)[^\n]*"
                + "the checkpoint '" + ck.toString().replace(".", "\\.") + "' is left as it was \\(step \\d+\\)[^\n]*\n"),
                r.err());
        int failed = Integer.parseInt(r.err().replaceAll("(?s)rnn4j: error: step (\\d+):.*", "$1"));
        assertEquals(failed - 1, CharLmCheckpoint.read(ck).step());
        assertEquals(failed - 1, Files.readAllLines(trace).size(), "the trace keeps the updates that were done");
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                Arguments.of("--layers must be at least 1, got 0", new String[] {"--layers", "0"}),
                Arguments.of("--hidden must be at least 1", new String[] {"--hidden", "-2"}),
                Arguments.of("--seq-len must be at least 1", new String[] {"--seq-len", "0"}),
                Arguments.of("--lr must be a positive finite number", new String[] {"--lr", "0"}),
                Arguments.of("--lr must be a positive finite number", new String[] {"--lr", "NaN"}),
                Arguments.of("--clip must be a finite number", new String[] {"--clip", "-1"}),
                Arguments.of("--dropout must be at least 0 and below 1", new String[] {"--dropout", "1"}),
                Arguments.of("--val-fraction must be at least 0 and below 1", new String[] {"--val-fraction", "1"}),
                Arguments.of("--optimizer must be adam or sgd", new String[] {"--optimizer", "rmsprop"}),
                Arguments.of("--steps must be at least 0", new String[] {"--steps", "-1"}),
                Arguments.of("--val-every must be at least 1", new String[] {"--val-every", "0"}),
                Arguments.of("--save-every must be at least 1", new String[] {"--save-every", "0"}),
                Arguments.of("--seed must be between 0 and 4294967295", new String[] {"--seed", "-1"}),
                Arguments.of("--precision: ", new String[] {"--precision", "float16"}),
                Arguments.of("--backend: unknown backend 'tpu'", new String[] {"--backend", "tpu"}),
                Arguments.of("the text is too short for --batch 3 and --seq-len 5000",
                        new String[] {"--seq-len", "5000"}),
                Arguments.of("Invalid value for option '--hidden'", new String[] {"--hidden", "many"}),
                Arguments.of("--trace: cannot write", new String[] {"--trace", "/no/such/dir/t.jsonl"}),
                Arguments.of("--checkpoint: cannot write", new String[] {"--checkpoint", "/no/such/dir/c"}),
                Arguments.of("--resume: cannot read", new String[] {"--resume", "/no/such/file"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputIsOneLineAndExitTwo(String expected, String[] extra) throws IOException {
        CliTest.Run r = train(extra);
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("rnn4j: ") && r.err().contains(expected), r.err());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(text), files.toList(), "a refused run writes nothing");
        }
    }

    @Test
    void resumeRefusesContradictionsAnotherTextAStepBelowAndABrokenFile() throws Exception {
        Path ck = dir.resolve("ck.safetensors");
        assertEquals(0, train("--steps", "5", "--checkpoint", ck.toString()).code());
        byte[] before = Files.readAllBytes(ck);
        String[][] cases = {
            {"--hidden 16 contradicts the checkpoint '" + ck + "', whose value is 8", "--hidden", "16"},
            {"--lr 0.1 contradicts the checkpoint '" + ck + "', whose value is 0.002", "--lr", "0.1"},
            {"--precision float64 contradicts", "--precision", "float64"},
            {"--optimizer sgd contradicts", "--optimizer", "sgd"},
            {"--steps 4 is below the step of '" + ck + "' (5)", "--steps", "4"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("train", "charlm", "--text", text.toString(), "--resume",
                    ck.toString(), "--backend", "cpu"));
            args.addAll(Arrays.asList(c).subList(1, c.length));
            CliTest.Run r = CliTest.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains(c[0]), r.err());
        }
        Path other = dir.resolve("other.txt");
        Files.writeString(other, CharLmFixtures.text(900) + "!");
        CliTest.Run r = CliTest.run("train", "charlm", "--text", other.toString(), "--resume", ck.toString(),
                "--backend", "cpu");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--text: '" + other + "' is not the text '" + ck + "' was trained on"), r.err());
        Path broken = dir.resolve("broken.safetensors");
        Files.write(broken, Arrays.copyOf(before, before.length - 3));
        r = CliTest.run("train", "charlm", "--text", text.toString(), "--resume", broken.toString(), "--backend",
                "cpu");
        assertEquals(2, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("rnn4j: --resume: " + broken + ": "), r.err());
        r = train("--checkpoint", text.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--checkpoint: '" + text + "' is the --text file"), r.err());
        assertArrayEquals(before, Files.readAllBytes(ck), "refused runs leave the checkpoint alone");
    }

    // ------------------------------------------------------------------------------------------------ sample

    private Path trainedCheckpoint() {
        Path ck = dir.resolve("model.safetensors");
        assertEquals(0, train("--steps", "20", "--checkpoint", ck.toString(), "--quiet").code());
        return ck;
    }

    @Test
    void samplePrintsThePrimeThenLengthCharactersReproducibly() throws Exception {
        Path ck = trainedCheckpoint();
        CliTest.Run a = CliTest.run("sample", "--checkpoint", ck.toString(), "--length", "40", "--prime", "the c",
                "--seed", "3", "--backend", "cpu");
        assertEquals(0, a.code(), a.err());
        assertEquals("", a.err());
        assertTrue(a.out().startsWith("the c"), a.out());
        assertTrue(a.out().endsWith("\n"));
        assertEquals(5 + 40, a.out().codePointCount(0, a.out().length() - 1));
        CharLmCheckpoint c = CharLmCheckpoint.read(ck);
        a.out().substring(0, a.out().length() - 1).codePoints()
                .forEach(cp -> assertTrue(c.vocabulary().indexOf(cp) >= 0, "every character is in the vocabulary"));
        assertEquals(a.out(), CliTest.run("sample", "--checkpoint", ck.toString(), "--length", "40", "--prime",
                "the c", "--seed", "3", "--backend", "cpu").out(), "the same seed gives the same text");
        CliTest.Run greedy = CliTest.run("sample", "--checkpoint", ck.toString(), "--length", "30", "--temperature",
                "0", "--backend", "cpu");
        CliTest.Run greedy2 = CliTest.run("sample", "--checkpoint", ck.toString(), "--length", "30", "--temperature",
                "0", "--seed", "1", "--backend", "cpu");
        assertEquals(0, greedy.code());
        assertEquals(1 + 30 + 1, greedy.out().codePointCount(0, greedy.out().length()), "the drawn start, 30, "
                + "a newline");
        // temperature 0 is the argmax at every step: check it against the sampler directly
        try (Backend be = CharLmFixtures.cpu(Precision.FLOAT32); CharLmSampler s = new CharLmSampler(be, c)) {
            for (CliTest.Run g : List.of(greedy, greedy2)) {
                int[] cps = g.out().substring(0, g.out().length() - 1).codePoints().toArray();
                s.reset();
                for (int i = 0; i + 1 < cps.length; i++) {
                    double[] logits = s.feed(c.vocabulary().indexOf(cps[i]));
                    int best = 0;
                    for (int j = 1; j < logits.length; j++) {
                        best = logits[j] > logits[best] ? j : best;
                    }
                    assertEquals(c.vocabulary().codePoint(best), cps[i + 1], "position " + (i + 1));
                }
            }
        }
    }

    @Test
    void sampleRefusesBadInputWithOneLine() throws Exception {
        Path ck = trainedCheckpoint();
        String[][] cases = {
            {"--prime: U+6F22 '漢' (character 2) is not in the checkpoint's vocabulary", "--prime", "t漢"},
            {"--length must be at least 0", "--length", "-1"},
            {"--temperature must be a finite number, at least 0", "--temperature", "-0.5"},
            {"--temperature must be a finite number, at least 0", "--temperature", "Infinity"},
            {"--precision: ", "--precision", "float8"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("sample", "--checkpoint", ck.toString(), "--backend", "cpu"));
            args.addAll(Arrays.asList(c).subList(1, c.length));
            CliTest.Run r = CliTest.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains(c[0]), r.err());
        }
        CliTest.Run r = CliTest.run("sample", "--checkpoint", text.toString(), "--backend", "cpu");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("rnn4j: --checkpoint: " + text + ": "), r.err());
        assertEquals(1, r.errLines().size(), r.err());
    }

    /** The hidden --dump-logits writes the logits after each prime character, as the sampler computes them. */
    @Test
    void dumpLogitsWritesThePrimesLogits() throws Exception {
        Path ck = trainedCheckpoint();
        Path dump = dir.resolve("logits.json");
        CliTest.Run r = CliTest.run("sample", "--checkpoint", ck.toString(), "--prime", "cat", "--length", "0",
                "--dump-logits", dump.toString(), "--backend", "cpu", "--precision", "float64");
        assertEquals(0, r.code(), r.err());
        assertEquals("cat\n", r.out());
        JsonNode d = JSON.readTree(Files.readString(dump));
        assertEquals("float64", d.get("precision").asText());
        CharLmCheckpoint c = CharLmCheckpoint.read(ck);
        try (Backend be = CharLmFixtures.cpu(Precision.FLOAT64); CharLmSampler s = new CharLmSampler(be, c)) {
            for (int i = 0; i < 3; i++) {
                double[] want = s.feed(c.vocabulary().indexOf("cat".codePointAt(i)));
                assertEquals(c.vocabulary().indexOf("cat".codePointAt(i)), d.get("tokens").get(i).asInt());
                for (int j = 0; j < want.length; j++) {
                    assertEquals(want[j], d.get("logits").get(i).get(j).asDouble());
                }
            }
        }
    }
}
