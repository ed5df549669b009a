package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.rnn4j.trace.TraceComparison;

/** The command line as a user meets it: exit codes, one-line errors, traces, summaries and what is left on disk. */
class CliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }

        List<String> outLines() {
            return List.of(out.split("\n"));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "0"}),
                Arguments.of("--hidden", new String[] {"train", "lstm", "--hidden", "-3"}),
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "many"}),
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "100000"}),
                Arguments.of("--iterations", new String[] {"train", "rnn", "--iterations", "0"}),
                Arguments.of("--iterations", new String[] {"train", "lstm", "--iterations", "-1"}),
                Arguments.of("--report-every", new String[] {"train", "rnn", "--report-every", "0"}),
                Arguments.of("--batch", new String[] {"train", "rnn", "--batch", "0"}),
                Arguments.of("--cell", new String[] {"train", "lstm", "--cell", "gru"}),
                Arguments.of("--batch", new String[] {"train", "rnn", "--batch", "100000000", "--hidden", "512"}),
                Arguments.of("--input-dim", new String[] {"train", "lstm", "--input-dim", "0"}),
                Arguments.of("--lr", new String[] {"train", "rnn", "--lr", "0"}),
                Arguments.of("--lr", new String[] {"train", "rnn", "--lr", "-0.1"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "NaN"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "Infinity"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "fast"}),
                Arguments.of("--backend", new String[] {"train", "rnn", "--backend", "tpu"}),
                Arguments.of("--precision", new String[] {"train", "rnn", "--precision", "float16"}),
                Arguments.of("--seed", new String[] {"train", "rnn", "--seed", "-1"}),
                Arguments.of("--seed", new String[] {"train", "lstm", "--seed", "4294967296"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "a,b"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "0.1,,0.2"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", ""}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "0.1,nan"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "1e999"}),
                Arguments.of("--trace", new String[] {"train", "rnn", "--trace", "/no/such/dir/t.jsonl"}),
                Arguments.of("--summary", new String[] {"train", "lstm", "--summary", "/no/such/dir/s.json"}),
                Arguments.of("--trace", new String[] {"train", "lstm", "--trace", "/tmp"}),
                Arguments.of("--nope", new String[] {"train", "rnn", "--nope"}),
                Arguments.of("missing", new String[] {"train"}),
                Arguments.of("missing", new String[] {}),
                Arguments.of("gru", new String[] {"gradcheck", "gru"}),
                Arguments.of("NETWORK", new String[] {"gradcheck"}),
                Arguments.of("model or linear-mse", new String[] {"gradcheck", "charlm"}),
                Arguments.of("--cell", new String[] {"gradcheck", "model", "--cell", "standard"}),
                Arguments.of("--seed", new String[] {"gradcheck", "model", "--seed", "-1"}),
                // float32 cannot hold these: refused before training, naming the option
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "1e39,0", "--iterations", "1"}),
                Arguments.of("--targets", new String[] {"train", "lstm", "--targets", "0.5,-3.5e38", "--iterations", "1"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--lr", "1e-50", "--iterations", "1"}),
                Arguments.of("--lr", new String[] {"train", "lstm", "--cell", "standard", "--lr", "1e39", "--iterations", "1"}),
                Arguments.of("--lr", new String[] {"train", "rnn", "--lr", "1e39", "--iterations", "1"}),
                Arguments.of("--lr", new String[] {"train", "rnn", "--lr", "1e-44", "--batch", "1000", "--iterations", "1"}),
                // an accuracy test over all pairs at this size would need a buffer beyond 2^31 elements
                Arguments.of("--hidden", new String[] {"train", "rnn", "--hidden", "15000", "--iterations", "1"}),
                Arguments.of("--cell", new String[] {"gradcheck", "lstm", "--cell", "gru"}),
                Arguments.of("--cell", new String[] {"gradcheck", "rnn", "--cell", "standard"}),
                Arguments.of("help", new String[] {"help", "train", "gru"}),
                // exact arithmetic: sizes whose counts overflow 64 bits, or whose buffers exceed 2^31 elements
                Arguments.of("too large", new String[] {"memory", "lstm", "--hidden", "2000000000", "--input-dim",
                        "2000000000"}),
                Arguments.of("--hidden", new String[] {"memory", "lstm", "--hidden", "2147483647", "--input-dim",
                        "2147483647", "--steps", "2147483647", "--batch", "2147483647"}),
                Arguments.of("buffer", new String[] {"memory", "lstm", "--hidden", "30000"}),
                Arguments.of("buffer", new String[] {"memory", "rnn", "--hidden", "40000"}),
                Arguments.of("too large", new String[] {"memory", "rnn", "--hidden", "2147483647"}),
                Arguments.of("too large", new String[] {"memory", "charlm", "--vocab", "100", "--hidden", "2000000000"}),
                Arguments.of("buffer", new String[] {"memory", "lstm", "--cell", "standard", "--steps", "100000",
                        "--batch", "100000"}));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("badInputs")
    void badInputIsOneLineNamingTheOptionAndExitCode2(String named, String[] args) {
        Run r = run(args);
        assertEquals(2, r.code(), () -> "exit code for " + Arrays.toString(args) + "\n" + r.err());
        assertEquals(1, r.errLines().size(), () -> "stderr must be one line:\n" + r.err());
        assertTrue(r.err().startsWith("rnn4j: "), r.err());
        assertTrue(r.err().contains(named), () -> "error must name " + named + ": " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void negativeTargetsAreReadAsValues() throws IOException {
        Path summary = dir.resolve("s.json");
        Run r = run("train", "lstm", "--targets", "-0.3,0.4", "--hidden", "3", "--input-dim", "2",
                "--iterations", "2", "--quiet", "--summary", summary.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(summary.toFile());
        assertEquals(-0.3, s.get("targets").get(0).asDouble());
        assertEquals(2, s.get("predictions").size());
    }

    @Test
    void badInputLeavesExistingFilesUntouched() throws IOException {
        Path trace = dir.resolve("trace.jsonl");
        Path summary = dir.resolve("summary.json");
        Files.writeString(trace, "precious trace\n");
        Files.writeString(summary, "precious summary\n");
        Run bad = run("train", "rnn", "--hidden", "0", "--trace", trace.toString(), "--summary", summary.toString());
        assertEquals(2, bad.code());
        Run badSummary = run("train", "rnn", "--iterations", "10", "--trace", trace.toString(), "--summary",
                dir.resolve("missing/summary.json").toString());
        assertEquals(2, badSummary.code());
        assertEquals("precious trace\n", Files.readString(trace));
        assertEquals("precious summary\n", Files.readString(summary));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void traceOfRnnAtOtherSettingsEqualsTheOracle() throws Exception {
        Path trace = dir.resolve("rnn.jsonl");
        Run r = run("train", "rnn", "--precision", "float64", "--seed", "1", "--hidden", "8", "--iterations", "3000",
                "--lr", "0.5", "--report-every", "100", "--backend", "cpu", "--quiet", "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err(), "--backend cpu prints no fallback note");
        assertMatchesOracle(trace, "rnn-seed1-h8-lr0.5");
    }

    @Test
    void traceOfLstmAtOtherSettingsEqualsTheOracle() throws Exception {
        Path trace = dir.resolve("lstm.jsonl");
        Run r = run("train", "lstm", "--precision", "float64", "--seed", "1", "--hidden", "10", "--input-dim", "3",
                "--targets", "0.3,-0.2,0.7", "--iterations", "200", "--lr", "0.2", "--quiet",
                "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertMatchesOracle(trace, "lstm-seed1-h10-x3");
    }

    private static void assertMatchesOracle(Path trace, String name) throws Exception {
        List<JsonNode> want = TraceComparison.read(Path.of(CliTest.class.getResource(
                "/org/rnn4j/traces/" + name + ".jsonl").toURI()));
        TraceComparison.Result c = TraceComparison.compare(TraceComparison.read(trace), want, 1e-9, 1e-12);
        assertTrue(c.passed(), () -> c.summary() + "\n" + String.join("\n", c.failures()));
        assertEquals(want.size(), c.lines());
    }

    @Test
    void rnnSummaryAndResult() throws IOException {
        Path summary = dir.resolve("rnn.json");
        Run r = run("train", "rnn", "--iterations", "300", "--report-every", "100", "--summary", summary.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(summary.toFile());
        assertEquals("rnn", s.get("network").asText());
        assertEquals("cpu", s.get("backend").asText());
        assertEquals("float32", s.get("precision").asText());
        assertEquals(300, s.get("iterations").asInt());
        assertTrue(s.get("seconds").asDouble() > 0);
        assertEquals(300 / s.get("seconds").asDouble(), s.get("iterations_per_second").asDouble(), 1e-6);
        double accuracy = s.get("accuracy").asDouble();
        assertTrue(accuracy >= 0 && accuracy <= 1);
        // Plain output, not a terminal: one line per report (iterations 0, 100, 200), then the result
        assertEquals(3, r.outLines().stream().filter(l -> l.startsWith("iter ")).count(), r.out());
        assertTrue(r.out().contains("accuracy: "), r.out());
        // auto found no GPU backend here and says so, in one line
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("using the CPU backend"), r.err());
    }

    @Test
    void lstmSummaryMatchesItsTrace() throws IOException {
        Path summary = dir.resolve("lstm.json");
        Path trace = dir.resolve("lstm.jsonl");
        Run r = run("train", "lstm", "--iterations", "30", "--quiet", "--summary", summary.toString(),
                "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out(), "--quiet prints nothing on stdout");
        JsonNode s = JSON.readTree(summary.toFile());
        List<JsonNode> lines = TraceComparison.read(trace);
        assertEquals(30, lines.size());
        JsonNode last = lines.get(lines.size() - 1);
        assertEquals(29, last.get("iter").asInt());
        assertEquals(last.get("loss").asDouble(), s.get("final_loss").asDouble());
        assertEquals(last.get("y_pred"), s.get("predictions"));
        assertEquals("float32", s.get("precision").asText());
    }

    @Test
    void lstmStandardCellLearnsTheSeedsTask() throws IOException {
        Path summary = dir.resolve("std.json");
        Path trace = dir.resolve("std.jsonl");
        Run r = run("train", "lstm", "--cell", "standard", "--precision", "float64", "--iterations", "300",
                "--quiet", "--summary", summary.toString(), "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(summary.toFile());
        assertEquals("standard", s.get("cell").asText());
        List<JsonNode> lines = TraceComparison.read(trace);
        assertEquals(300, lines.size());
        double first = lines.get(0).get("loss").asDouble();
        double last = s.get("final_loss").asDouble();
        assertTrue(last < 1e-3 * first, "the loss falls by three orders: " + first + " -> " + last);
        // a different cell, a different run: the seed cell's first loss is not the standard cell's
        Run seed = run("train", "lstm", "--precision", "float64", "--iterations", "1", "--quiet",
                "--summary", dir.resolve("seed.json").toString());
        assertEquals(0, seed.code(), seed.err());
        assertTrue(Math.abs(JSON.readTree(dir.resolve("seed.json").toFile()).get("final_loss").asDouble() - first)
                > 1e-6);
    }

    @Test
    void memoryTotalIsWhatTheBackendAllocates() {
        Run r = run("memory", "lstm", "--cell", "standard", "--input-dim", "9", "--hidden", "13", "--batch", "3",
                "--steps", "7", "--precision", "float64");
        assertEquals(0, r.code(), r.err());
        String total = r.outLines().stream().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
        long bytes = Long.parseLong(total.replaceAll(".* values +([0-9,]+) bytes.*", "$1").replace(",", ""));
        try (var b = (org.rnn4j.backend.spi.AbstractBackend) new org.rnn4j.backend.cpu.CpuBackend64();
             var net = new org.rnn4j.net.LstmLayer(b, 9, 13); var ws = net.workspace(7, 3)) {
            assertEquals(b.allocatedBytes(), bytes, r.out());
        }
        assertEquals(2, run("memory", "gru").code());
    }

    @Test
    void charlmMemoryTotalIsWhatTheModelItsLossClippingAndAdamAllocate() {
        for (String dropout : new String[] {"0", "0.25"}) {
            Run r = run("memory", "charlm", "--vocab", "11", "--embedding", "5", "--hidden", "7", "--layers", "3",
                    "--dropout", dropout, "--batch", "3", "--steps", "6", "--precision", "float64");
            assertEquals(0, r.code(), r.err());
            String total = r.outLines().stream().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
            long bytes = Long.parseLong(total.replaceAll(".* values +([0-9,]+) bytes.*", "$1").replace(",", ""));
            try (var b = (org.rnn4j.backend.spi.AbstractBackend) new org.rnn4j.backend.cpu.CpuBackend64();
                 var model = org.rnn4j.nn.Sequential.builder().embedding(11, 5).lstm(7, 3, Double.parseDouble(dropout))
                         .linear(11).build(b, 1);
                 var ws = model.workspace(6, 3); var loss = new org.rnn4j.nn.CrossEntropyLoss(b, 18, 11);
                 var clip = new org.rnn4j.nn.GradientClipping(model.arena());
                 var adam = new org.rnn4j.nn.Adam(model.arena(), 0.01)) {
                assertEquals(b.allocatedBytes(), bytes, r.out());
            }
            assertTrue(r.outLines().stream().anyMatch(l -> l.startsWith("optimizer")), r.out());
        }
        Run bad = run("memory", "charlm", "--vocab", "0");
        assertEquals(2, bad.code());
        assertEquals("rnn4j: --vocab must be at least 1, got 0", bad.err().strip());
        assertEquals(2, run("memory", "charlm", "--dropout", "1").code());
    }

    @Test
    void gradchecksPassAndEndWithTheirMaximum() {
        for (String net : new String[] {"rnn", "lstm", "lstm-stack", "model", "linear-mse"}) {
            Run r = run("gradcheck", net);
            assertEquals(0, r.code(), r.out() + r.err());
            List<String> lines = r.outLines();
            String last = lines.get(lines.size() - 1);
            assertTrue(last.matches("max relative error \\S+"), last);
            double e = Double.parseDouble(last.substring("max relative error ".length()));
            assertTrue(e < 1e-6, last);
        }
    }

    @Test
    void devicesExplainsWhatIsUsable() {
        Run r = run("devices");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("cpu   usable"), r.out());
        assertTrue(r.out().contains("cuda  not usable: "), r.out());
        assertTrue(r.out().contains("auto  picks cpu"), r.out());
    }

    @Test
    void versionAndHelp() {
        Run v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("rnn4j "), v.out());
        Run h = run("train", "lstm", "--help");
        assertEquals(0, h.code());
        for (String option : new String[] {"--backend", "--precision", "--seed", "--hidden", "--iterations", "--lr",
                "--report-every", "--trace", "--summary", "--quiet", "--input-dim", "--targets"}) {
            assertTrue(h.out().contains(option), option);
        }
    }

    @Test
    void compareFindsADifference() throws IOException {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        Files.writeString(a, "{\"iter\": 0, \"loss\": 1.0, \"y_pred\": [0.5]}\n");
        Files.writeString(b, "{\"iter\": 0, \"loss\": 1.0000001, \"y_pred\": [0.5]}\n");
        assertEquals(0, run("compare", a.toString(), a.toString()).code());
        Run r = run("compare", a.toString(), b.toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("line 1 loss"), r.out());
        assertEquals(0, run("compare", a.toString(), b.toString(), "--rtol", "1e-6").code());
        List<String> missing = new ArrayList<>(run("compare", a.toString(), dir.resolve("none").toString())
                .errLines());
        assertEquals(1, missing.size());
        assertTrue(missing.get(0).contains("WANT"), missing.get(0));
    }

    // ---- numbers that go wrong while training -------------------------------------------------------------------

    @ParameterizedTest(name = "{0} cell")
    @ValueSource(strings = {"seed", "standard"})
    void lstmWhoseLossBecomesNaNStopsWithOneLineAndSavesNothing(String cell) throws IOException {
        Path trace = dir.resolve("t.jsonl");
        Path summary = dir.resolve("s.json");
        Files.writeString(summary, "an earlier run's summary\n");
        // a learning rate float32 can hold, but so large that the first step throws the weights to infinity
        Run r = run("train", "lstm", "--cell", cell, "--backend", "cpu", "--targets", "100,-100", "--lr", "3e38",
                "--iterations", "100", "--trace", trace.toString(), "--summary", summary.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("rnn4j: training stopped: the loss became NaN at iteration 1;"), r.err());
        assertFalse(r.out().contains("final loss"), r.out());
        assertFalse(Files.exists(trace), "no trace saved as if the run had succeeded");
        assertEquals("an earlier run's summary\n", Files.readString(summary));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void theFirstNonFiniteIterationIsNamedExactlyBetweenReports() {
        // reports at 0 and 50 only: the loss, NaN from iteration 1 on, is still named at iteration 1
        Run r = run("train", "lstm", "--backend", "cpu", "--targets", "100,-100", "--lr", "3e38", "--iterations",
                "100", "--report-every", "50", "--quiet");
        assertEquals(1, r.code(), r.err());
        assertEquals(List.of("rnn4j: training stopped: the loss became NaN at iteration 1; nothing was saved (a "
                + "smaller --lr may help)"), r.errLines());
        // float64 holds the same learning rate and goes wrong the same way
        Run f64 = run("train", "lstm", "--backend", "cpu", "--precision", "float64", "--targets", "1e5,-1e5",
                "--lr", "1e305", "--iterations", "30", "--report-every", "1000", "--quiet");
        assertEquals(1, f64.code(), f64.err());
        assertTrue(f64.err().contains("became NaN at iteration 1;"), f64.err());
    }

    @Test
    void aLossThatOverflowsAtOnceIsNamedAtIterationZero() {
        // 1e20 is a float32, its square is not: the first loss is infinite
        Run r = run("train", "lstm", "--backend", "cpu", "--targets", "1e20,0", "--iterations", "5", "--quiet");
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("the loss became infinite at iteration 0"), r.err());
        // the same targets in float64 are fine
        Run f64 = run("train", "lstm", "--backend", "cpu", "--precision", "float64", "--targets", "1e20,0",
                "--iterations", "5", "--quiet");
        assertEquals(0, f64.code(), f64.err());
    }

    // ---- memory ---------------------------------------------------------------------------------------------------

    @Test
    void aConfigurationBeyondTheHeapIsRefusedBeforeAllocating() throws IOException {
        // float64, hidden 16000, input 500, 16000 steps: about 52 GB by docs/memory.md's formulas; every buffer fits
        // an int, so only the estimate stands between this and an OutOfMemoryError
        String targets = String.join(",", java.util.Collections.nCopies(16000, "0"));
        org.rnn4j.train.MemoryNeed need = org.rnn4j.train.LstmTrainer.memoryNeeded(org.rnn4j.net.LstmLayer.Cell.SEED,
                new org.rnn4j.train.LstmTrainer.Config(0, 16000, 500, new double[16000], 1, 0.1),
                org.rnn4j.backend.Precision.FLOAT64);
        long needed = need.backendBytes() + need.hostBytes();
        org.junit.jupiter.api.Assumptions.assumeTrue(needed > Runtime.getRuntime().maxMemory(),
                "this JVM's heap could hold the configuration; the refusal cannot be shown without allocating it");
        Path summary = dir.resolve("s.json");
        Run r = run("train", "lstm", "--backend", "cpu", "--precision", "float64", "--hidden", "16000",
                "--input-dim", "500", "--targets", targets, "--iterations", "1", "--summary", summary.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        String line = r.err();
        assertTrue(line.startsWith("rnn4j: not enough memory: lstm (seed cell), hidden 16000, input 500, 16000 steps, "
                + "float64 needs about " + String.format(java.util.Locale.ROOT, "%,d bytes", needed)), line);
        assertTrue(line.contains(String.format(java.util.Locale.ROOT, "(%,d for the backend's buffers",
                need.backendBytes())), line);
        assertTrue(line.contains(" are available; "), line);
        assertTrue(line.matches("(?s).*JAVA_OPTS=-Xmx[0-9]+g\\s*"), line);
        assertFalse(Files.exists(summary));
    }

    @Test
    void anOutOfMemoryErrorIsOneLineAndExitCode1() {
        @picocli.CommandLine.Command(name = "greedy")
        class Greedy implements java.util.concurrent.Callable<Integer> {
            @Override
            public Integer call() {
                throw new OutOfMemoryError("Java heap space");
            }
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new picocli.CommandLine(new Greedy()), new String[0], new PrintWriter(out, true),
                new PrintWriter(err, true));
        assertEquals(1, code);
        List<String> lines = List.of(err.toString().split("\n"));
        assertEquals(1, lines.size(), err.toString());
        assertTrue(lines.get(0).startsWith("rnn4j: error: out of memory (Java heap space)"), lines.get(0));
        assertTrue(lines.get(0).contains("JAVA_OPTS=-Xmx"), lines.get(0));
    }

    @Test
    void memoryCountsAreExactNearTheLimits() {
        // the largest LSTM whose parameters and gradients fit one buffer: counts far beyond 2^31 bytes, all positive
        Run r = run("memory", "lstm", "--cell", "standard", "--hidden", "16000", "--input-dim", "500",
                "--precision", "float64");
        assertEquals(0, r.code(), r.err());
        long params = 4L * 16000 * 500 + 4L * 16000 * 16000 + 8L * 16000;
        String total = r.outLines().stream().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
        long bytes = Long.parseLong(total.replaceAll(".* values +([0-9,]+) bytes.*", "$1").replace(",", ""));
        assertEquals((2 * params + 4L * (500 + 11L * 16000) + 3L * 16000) * 8, bytes, total);
    }

    // ---- compare ------------------------------------------------------------------------------------------------

    @Test
    void compareNamesTheFileAndLineOfATruncatedTrace() throws IOException {
        Path whole = dir.resolve("whole.jsonl");
        Path cut = dir.resolve("cut.jsonl");
        String text = "{\"iter\": 0, \"loss\": 1.0}\n{\"iter\": 1, \"loss\": 0.5}\n";
        Files.writeString(whole, text);
        Files.writeString(cut, text.substring(0, text.length() - 8));
        Run r = run("compare", cut.toString(), whole.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("GOT: '" + cut + "' line 2: not one JSON value"), r.err());
        assertTrue(r.err().contains("truncated"), r.err());
        Run w = run("compare", whole.toString(), cut.toString());
        assertTrue(w.err().contains("WANT: '" + cut + "' line 2"), w.err());
        // a line with something after its value is no trace line either
        Files.writeString(cut, text + "{\"iter\": 2} trailing\n");
        Run trailing = run("compare", cut.toString(), whole.toString());
        assertEquals(2, trailing.code());
        assertTrue(trailing.err().contains("line 3: "), trailing.err());
    }

    @Test
    void compareNamesTheFileAndLineOfABinaryFile() throws IOException {
        Path trace = dir.resolve("trace.jsonl");
        Path binary = dir.resolve("binary.jsonl");
        Files.writeString(trace, "{\"iter\": 0, \"loss\": 1.0}\n");
        Files.write(binary, new byte[] {'{', '}', '\n', '\n', (byte) 0xff, (byte) 0xfe, 0, 1, '\n', 'x'});
        Run r = run("compare", binary.toString(), trace.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(List.of("rnn4j: GOT: '" + binary + "' line 3: not UTF-8 text (a binary file?)"), r.errLines());
        Files.write(binary, new byte[] {'{', '}', '\n', 0, 0, 0, '\n'});
        Run nul = run("compare", trace.toString(), binary.toString());
        assertEquals(2, nul.code());
        assertTrue(nul.err().contains("WANT: '" + binary + "' line 2: holds a NUL byte"), nul.err());
    }

    @Test
    void compareOfEmptyFilesIsNoSuccess() throws IOException {
        Path a = dir.resolve("a.jsonl");
        Path b = dir.resolve("b.jsonl");
        Path trace = dir.resolve("t.jsonl");
        Files.writeString(a, "");
        Files.writeString(b, "\n\n");
        Files.writeString(trace, "{\"iter\": 0}\n");
        Run r = run("compare", a.toString(), b.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("WANT: '" + b + "' holds no trace lines"), r.err());
        // an empty trace against a real one is a difference (exit 1), as any missing line is
        Run missing = run("compare", a.toString(), trace.toString());
        assertEquals(1, missing.code(), missing.out() + missing.err());
        assertTrue(missing.out().contains("has 0 lines, expected 1"), missing.out());
        assertEquals(2, run("compare", trace.toString(), a.toString()).code());
    }

    // ---- help and gradcheck -------------------------------------------------------------------------------------

    @Test
    void helpOfANestedCommandIsThatCommandsHelp() {
        Run h = run("help", "train", "lstm");
        assertEquals(0, h.code(), h.err());
        assertTrue(h.out().startsWith("Usage: rnn4j train lstm"), h.out());
        assertTrue(h.out().contains("--targets"), h.out());
        Run t = run("help", "train");
        assertTrue(t.out().startsWith("Usage: rnn4j train "), t.out());
        assertFalse(t.out().contains("--targets"), t.out());
        Run top = run("help");
        assertEquals(0, top.code());
        assertTrue(top.out().startsWith("Usage: rnn4j "), top.out());
        assertTrue(run("help", "memory").out().contains("--steps"));
    }

    @Test
    void gradcheckOfTheModelChecksEveryParameterAndTheInitialState() {
        Run r = run("gradcheck", "model", "--seed", "5");
        assertEquals(0, r.code(), r.out() + r.err());
        List<String> lines = r.outLines();
        assertTrue(lines.get(0).startsWith("gradient check, model (embedding 5x3, lstm hidden 4, 2 layers, dropout 0.25 "
                + "(fixed mask, "), lines.get(0));
        assertTrue(lines.get(0).contains("cross-entropy") && lines.get(0).contains("given h0 and c0, seed 5"),
                lines.get(0));
        List<String> names = List.of("embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                "head.weight", "head.bias", "h0", "c0");
        assertEquals(names.size() + 2, lines.size(), r.out());
        double worst = 0;
        for (int i = 0; i < names.size(); i++) {
            String line = lines.get(i + 1);
            assertTrue(line.matches("  " + java.util.regex.Pattern.quote(names.get(i))
                    + " +\\(\\d+ x \\d+\\): max relative error \\S+ at element \\d+ .*"), line);
            worst = Math.max(worst, Double.parseDouble(line.replaceAll(".*max relative error (\\S+) at.*", "$1")));
        }
        String last = lines.get(lines.size() - 1);
        assertEquals(String.format(java.util.Locale.ROOT, "max relative error %.3e", worst), last);
        assertTrue(worst < 1e-6, last);
        Run linear = run("gradcheck", "linear-mse");
        assertEquals(0, linear.code(), linear.out() + linear.err());
        for (String tensor : new String[] {"weight", "bias", "input"}) {
            assertTrue(linear.out().contains("  " + tensor + " "), tensor + " checked: " + linear.out());
        }
        // the seed is the whole input: the same seed prints the same check
        assertEquals(r.out(), run("gradcheck", "model", "--seed", "5").out());
    }

    @Test
    void gradcheckOfTheStandardCellChecksEveryTensor() {
        Run r = run("gradcheck", "lstm", "--cell", "standard");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("gradient check, lstm, standard cell"), r.out());
        for (String tensor : new String[] {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
            assertTrue(r.out().contains("  " + tensor + " "), tensor + " checked: " + r.out());
        }
        List<String> lines = r.outLines();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.matches("max relative error \\S+"), last);
        assertTrue(Double.parseDouble(last.substring("max relative error ".length())) < 1e-6, last);
        // the seed cell stays the default, and can be named
        Run seed = run("gradcheck", "lstm", "--cell", "seed");
        assertEquals(0, seed.code());
        assertEquals(run("gradcheck", "lstm").out(), seed.out());
        assertTrue(seed.out().contains("  W "), seed.out());
    }
}
