package org.rnn4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's parsing, unit conversion, medians and speedups, on a hand-written JMH JSON with cpu and cuda. */
class ReportTest {

    private static List<JmhResult> results;

    @BeforeAll
    static void load() throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path tmp = Files.createTempFile("jmh", ".json");
        try (InputStream in = ReportTest.class.getResourceAsStream("jmh-cpu-cuda.json")) {
            Files.write(tmp, in.readAllBytes());
        }
        results = JmhResult.parse(tmp);
        Files.delete(tmp);
    }

    static void assertPng(Path p) throws IOException {
        assertTrue(Files.size(p) > 1000, p + " is nearly empty");
        byte[] head = Arrays.copyOf(Files.readAllBytes(p), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, p + " is no PNG");
        BufferedImage img = ImageIO.read(p.toFile());
        assertTrue(img.getWidth() > 100 && img.getHeight() > 100, p + ": " + img.getWidth() + "x" + img.getHeight());
    }

    @Test
    void parsesEntries() {
        assertEquals(11, results.size());
        JmhResult first = results.get(0);
        assertEquals("org.rnn4j.bench.RnnTrainingBench.trainIteration", first.benchmark());
        assertEquals("RnnTrainingBench.trainIteration", first.shortName());
        assertEquals("avgt", first.mode());
        assertEquals(Map.of("backend", "cpu", "batch", "1", "hidden", "16", "precision", "float32"), first.params());
        assertEquals(0.02, first.score(), 0);
        assertEquals(0.001, first.error(), 0);
        assertEquals("ms/op", first.unit());
        assertEquals("1.37", first.run().get("jmhVersion"));
        // JMH writes a missing error as the string "NaN"
        assertTrue(results.stream().anyMatch(r -> Double.isNaN(r.error())));
    }

    @Test
    void convertsUnitsToSecondsPerOp() {
        assertEquals(2e-5, JmhResult.secondsPerOp(0.02, "ms/op"), 1e-20);
        assertEquals(3e-6, JmhResult.secondsPerOp(3, "us/op"), 1e-20);
        assertEquals(4e-9, JmhResult.secondsPerOp(4, "ns/op"), 1e-22);
        assertEquals(0.5, JmhResult.secondsPerOp(2, "ops/s"), 0);
        assertEquals(1e-3 / 4, JmhResult.secondsPerOp(4, "ops/ms"), 1e-18);
        assertTrue(Double.isNaN(JmhResult.secondsPerOp(1, "furlongs")));
    }

    @Test
    void mediansAndSpeedups() {
        List<Report.Row> rows = Report.rows(results);
        // the two cpu entries at hidden 16, batch 64 are one row: medians of their scores and errors
        Report.Row dup = find(rows, "RnnTrainingBench", Map.of("backend", "cpu", "hidden", "16", "batch", "64"));
        assertEquals(2, dup.runs());
        assertEquals((0.5 + 0.7) / 2, dup.score(), 1e-15);
        assertEquals((0.02 + 0.04) / 2, dup.error(), 1e-15);
        assertTrue(Double.isNaN(dup.speedup()), "the host has no speedup");

        // cuda at hidden 16, batch 64: 0.6 ms on the cpu (median) / 0.15 ms = 4x
        Report.Row cuda = find(rows, "RnnTrainingBench", Map.of("backend", "cuda", "hidden", "16", "batch", "64"));
        assertEquals(4.0, cuda.speedup(), 1e-12);
        // cuda at hidden 16, batch 1: 0.02 ms / 0.1 ms = 0.2x (slower than the cpu)
        Report.Row slow = find(rows, "RnnTrainingBench", Map.of("backend", "cuda", "hidden", "16", "batch", "1"));
        assertEquals(0.2, slow.speedup(), 1e-12);
        // cuda at hidden 128 has no cpu counterpart
        Report.Row alone = find(rows, "RnnTrainingBench", Map.of("backend", "cuda", "hidden", "128"));
        assertTrue(Double.isNaN(alone.speedup()));
        assertEquals(1 / 2e-3, Report.throughput(alone), 1e-9);

        // GEMM: both cuda paths against the one cpu path; the cpu score is in us/op, cuda's in ns/op
        Report.Row def = find(rows, "GemmBench", Map.of("backend", "cuda", "shape", "256", "gemmPath", "default"));
        assertEquals(8000e-6 / 20000e-9, def.speedup(), 1e-9);
        Report.Row builtin = find(rows, "GemmBench", Map.of("backend", "cuda", "shape", "256", "gemmPath", "builtin"));
        assertEquals(8000e-6 / 50000e-9, builtin.speedup(), 1e-9);
        Report.Row host = find(rows, "GemmBench", Map.of("backend", "cpu", "shape", "256"));
        assertEquals(2.0 * 256 * 256 * 256 / 8000e-6 / 1e9, Report.throughput(host), 1e-9);

        // rows sorted: the host first, then numerically by size
        List<String> order = rows.stream().filter(r -> r.shortName().equals("GemmBench.gemm"))
                .map(r -> r.backend() + ":" + r.params().get("shape") + ":" + r.params().get("gemmPath"))
                .collect(Collectors.toList());
        assertEquals(List.of("cpu:256:default", "cpu:lstm:default", "cuda:256:builtin", "cuda:256:default",
                "cuda:lstm:default"), order);
    }

    @Test
    void writesReportWithSpeedupsAndCharts(@TempDir Path dir) throws IOException {
        Report.Environment env = new Report.Environment("2026-01-01T00:00:00Z", "abc1234", "run.sh --test",
                List.of("CPU: Test CPU, 2 logical cores"),
                new Report.GpuStatus(true, "1 device", List.of("GPU 0: Test GPU, compute 9.0")));
        List<Path> written = Report.write(results, env, dir);
        String md = Files.readString(dir.resolve("REPORT.md"));
        assertTrue(md.contains("- Commit: abc1234"), md);
        assertTrue(md.contains("`run.sh --test`"), md);
        assertTrue(md.contains("GPU 0: Test GPU"), md);
        assertTrue(md.contains("| cuda | 16 | 64 | float32 | avgt | 0.15 | 0.01 | ms/op | 1 | 6667 | 4x |"), md);
        assertTrue(md.contains("| cpu | 16 | 64 | float32 | avgt | 0.6 | 0.03 | ms/op | 2 | 1667 | — |"), md);
        assertTrue(md.contains("| cuda | 256 | 256x256x256 | float32 | builtin | avgt | 50000 | NaN | ns/op |"), md);
        assertTrue(md.contains("64x1024x256, B transposed"), md);
        assertFalse(md.contains("unmeasured"), md);
        for (String png : List.of("RnnTrainingBench-throughput.png", "RnnTrainingBench-speedup.png",
                "GemmBench-throughput.png", "GemmBench-speedup.png")) {
            assertTrue(written.contains(dir.resolve(png)), png);
            assertPng(dir.resolve(png));
            assertTrue(md.contains("](" + png + ")"), png);
        }
    }

    @Test
    void describesTheMachineTheDeviceCheckRecordedNotThisOne(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("environment.txt");
        Files.writeString(file, String.join("\n", "date=2026-12-01T10:00:00Z", "commit=feed123",
                "machine=CPU: Far Away CPU, 16 logical cores", "machine=GPU: NVIDIA H200, 580.159.04, 143771 MiB",
                "gpu.usable=true", "gpu.reason=NVIDIA H200 (sm_90), driver 13.0",
                "gpu.detail=GEMM: built-in tiled kernel, cuBLAS unavailable: libcublas.so.12 not found",
                "a line without an equals sign", "unknown.key=ignored", ""));
        Report.Environment env = Report.Environment.read(file, "device-check.sh run --bench");
        assertEquals("2026-12-01T10:00:00Z", env.date());
        assertEquals("feed123", env.gitCommit());
        assertEquals("CPU: Far Away CPU, 16 logical cores", env.machine().get(0));
        assertTrue(env.machine().get(2).startsWith("Report written elsewhere"), env.machine().toString());
        assertTrue(env.gpu().usable());
        Report.write(results, env, dir);
        String md = Files.readString(dir.resolve("REPORT.md"));
        assertTrue(md.contains("- Commit: feed123"), md);
        assertTrue(md.contains("Far Away CPU"), md);
        assertTrue(md.contains("usable: NVIDIA H200 (sm_90), driver 13.0"), md);
        assertTrue(md.contains("libcublas.so.12 not found"), md);
        assertFalse(md.contains("unknown.key"), md);
    }

    @Test
    void saysWhyTheGpuHalfIsUnmeasured(@TempDir Path dir) throws IOException {
        List<JmhResult> cpuOnly = results.stream().filter(r -> r.backend().equals("cpu")).collect(Collectors.toList());
        Report.Environment env = new Report.Environment("2026-01-01T00:00:00Z", "abc1234", null, List.of(),
                new Report.GpuStatus(false, "no NVIDIA driver (libcuda.so.1 not found)", List.of()));
        List<Path> written = Report.write(cpuOnly, env, dir);
        String md = Files.readString(dir.resolve("REPORT.md"));
        assertTrue(md.contains("The GPU half is unmeasured here"), md);
        assertTrue(md.contains("no NVIDIA driver (libcuda.so.1 not found)"), md);
        assertTrue(md.contains("- Command: not recorded"), md);
        assertFalse(Files.exists(dir.resolve("RnnTrainingBench-speedup.png")));
        assertTrue(written.contains(dir.resolve("RnnTrainingBench-throughput.png")));
    }

    @Test
    void formatsNumbers() {
        assertEquals("0.12346", Report.sig(0.123456789, 5));
        assertEquals("123460", Report.sig(123456.0, 5));
        assertEquals("4", Report.sig(4.0, 3));
        assertEquals("NaN", Report.sig(Double.NaN, 3));
        assertEquals(2.5, Report.median(new double[] {4, 1, 2, 3}), 0);
        assertEquals(2, Report.median(new double[] {3, 1, 2}), 0);
        assertTrue(Report.compareValues("16", "128") < 0);
        assertTrue(Report.compareValues("1024", "lstm") < 0);
    }

    private static Report.Row find(List<Report.Row> rows, String benchClass, Map<String, String> params) {
        List<Report.Row> found = rows.stream()
                .filter(r -> r.shortName().startsWith(benchClass + "."))
                .filter(r -> params.entrySet().stream()
                        .allMatch(e -> e.getValue().equals(r.params().get(e.getKey()))))
                .collect(Collectors.toList());
        assertEquals(1, found.size(), "rows matching " + params + ": " + found);
        return found.get(0);
    }
}
