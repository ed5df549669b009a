package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@code --trace} and {@code --summary} do to the file system: symbolic links are written through, FIFOs and
 * devices are refused and left alone, the two options may not name one file, new files get the umask's mode, existing
 * files keep theirs, and no temporary file outlives a run (ended normally, interrupted, or killed outright).
 */
class OutputFilesTest {

    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;

    @TempDir
    Path root;

    /** Where the outputs go; {@code root} also holds the child processes' logs. */
    Path dir;

    @BeforeEach
    void makeOutputDirectory() throws IOException {
        dir = Files.createDirectory(root.resolve("out"));
    }

    record Run(int code, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, err.toString());
    }

    /** A short run writing the given trace and summary. */
    private static Run train(Path trace, Path summary) {
        List<String> args = new ArrayList<>(List.of("train", "rnn", "--backend", "cpu", "--iterations", "20",
                "--report-every", "10", "--quiet"));
        if (trace != null) {
            args.addAll(List.of("--trace", trace.toString()));
        }
        if (summary != null) {
            args.addAll(List.of("--summary", summary.toString()));
        }
        return run(args.toArray(String[]::new));
    }

    private static int type(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & S_IFMT;
    }

    private static String permissions(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private List<String> temporaries() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).sorted()
                    .collect(Collectors.toList());
        }
    }

    private static void assertOneLineRefusal(Run r, String option, String... mentions) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), () -> "stderr must be one line:\n" + r.err());
        assertTrue(r.err().startsWith("rnn4j: " + option), r.err());
        for (String m : mentions) {
            assertTrue(r.err().contains(m), () -> "the message should mention '" + m + "': " + r.err());
        }
        assertFalse(r.err().contains(".tmp"), () -> "no internal temporary name: " + r.err());
    }

    private static int exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        if (code != 0) {
            System.err.println(String.join(" ", command) + ": " + output.strip());
        }
        return code;
    }

    // ---------------------------------------------------------------- symbolic links

    @Test
    void symlinkIsWrittenThroughAndLeftInPlace() throws IOException {
        Path elsewhere = Files.createDirectory(root.resolve("elsewhere"));
        Path realTrace = Files.writeString(elsewhere.resolve("trace.jsonl"), "old trace\n");
        Path realSummary = Files.writeString(elsewhere.resolve("summary.json"), "old summary\n");
        Path traceLink = Files.createSymbolicLink(dir.resolve("t.jsonl"), realTrace);
        Path summaryLink = Files.createSymbolicLink(dir.resolve("s.json"), Path.of("../elsewhere/summary.json"));

        Run r = train(traceLink, summaryLink);

        assertEquals(0, r.code(), r.err());
        assertEquals(S_IFLNK, type(traceLink), "the trace link is still a link");
        assertEquals(S_IFLNK, type(summaryLink), "the summary link is still a link");
        assertEquals(realTrace, Files.readSymbolicLink(traceLink));
        assertTrue(Files.readString(realTrace).startsWith("{"), "the link's target holds the new trace");
        assertTrue(Files.readString(realSummary).contains("\"network\""), "the link's target holds the summary");
        assertEquals(List.of(), temporaries());
        try (Stream<Path> files = Files.list(elsewhere)) {
            assertEquals(2, files.count(), "no temporary file left beside the targets");
        }
    }

    @Test
    void danglingSymlinkCreatesItsTarget() throws IOException {
        Path target = root.resolve("made-by-the-run.json");
        Path link = Files.createSymbolicLink(dir.resolve("s.json"), target);

        Run r = train(null, link);

        assertEquals(0, r.code(), r.err());
        assertEquals(S_IFLNK, type(link));
        assertEquals(S_IFREG, type(target));
        assertTrue(Files.readString(target).contains("\"network\""));
    }

    // ---------------------------------------------------------------- what is neither a file nor a new path

    @Test
    void fifoIsRefusedAndLeftAlone() throws Exception {
        Path fifo = dir.resolve("pipe");
        assumeTrue(exec("mkfifo", fifo.toString()) == 0, "mkfifo is not available here");

        assertOneLineRefusal(train(fifo, null), "--trace", "'" + fifo + "'", "FIFO");
        assertOneLineRefusal(train(null, fifo), "--summary", "FIFO");
        assertEquals(S_IFIFO, type(fifo), "the FIFO is still a FIFO");

        Path link = Files.createSymbolicLink(dir.resolve("link-to-pipe"), fifo);
        assertOneLineRefusal(train(link, null), "--trace", "FIFO");
        assertEquals(S_IFLNK, type(link));
        assertEquals(S_IFIFO, type(fifo));
        assertEquals(List.of(), temporaries());
    }

    @Test
    void characterDeviceIsRefusedAndLeftAlone() throws Exception {
        Path device = dir.resolve("null");
        // A copy of /dev/null (major 1, minor 3), made here and never in /dev itself.
        assumeTrue(exec("mknod", device.toString(), "c", "1", "3") == 0,
                "mknod is refused here (it needs CAP_MKNOD), so the device case cannot be set up");

        assertOneLineRefusal(train(device, null), "--trace", "'" + device + "'", "character device");
        assertOneLineRefusal(train(null, device), "--summary", "character device");
        assertEquals(S_IFCHR, type(device), "the device is still a device");
        assertEquals(List.of(), temporaries());
    }

    @Test
    void directoryIsRefused() {
        assertOneLineRefusal(train(dir, null), "--trace", "directory");
    }

    // ---------------------------------------------------------------- one file named twice

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"same spelling", "other spelling", "symbolic link", "hard link", "new file"})
    void traceAndSummaryInOneFileAreRefused(String how) throws IOException {
        Path file = dir.resolve("run.json");
        if (!how.equals("new file")) {
            Files.writeString(file, "precious\n");
        }
        Path other = switch (how) {
            case "same spelling", "new file" -> file;
            case "other spelling" -> dir.resolve("./sub/../run.json");
            case "symbolic link" -> Files.createSymbolicLink(dir.resolve("alias.json"), file);
            case "hard link" -> Files.createLink(dir.resolve("hard.json"), file);
            default -> throw new IllegalArgumentException(how);
        };
        if (how.equals("other spelling")) {
            Files.createDirectory(dir.resolve("sub"));
        }

        Run r = train(file, other);

        assertOneLineRefusal(r, "--summary", "same file", "--trace");
        if (how.equals("new file")) {
            assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "nothing written");
        } else {
            assertEquals("precious\n", Files.readString(file), "the file is left as it was");
        }
        assertEquals(List.of(), temporaries());
    }

    // ---------------------------------------------------------------- messages

    @Test
    void aDirectoryWhereNoFileCanBeMadeIsReportedWithTheUsersPath() {
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc.resolve("self")), "no /proc file system here");
        Path summary = proc.resolve("x.json");

        Run r = train(null, summary);

        assertOneLineRefusal(r, "--summary", "'/proc/x.json'");
    }

    // ---------------------------------------------------------------- permissions

    private Process startCli(String umask, Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "umask " + umask + " && exec \"$@\"", "sh",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
    }

    @ParameterizedTest(name = "umask {0} gives {1}")
    @CsvSource({"022, rw-r--r--", "077, rw-------", "002, rw-rw-r--"})
    void newFilesAreCreatedAsAnyProgramCreatesThem(String umask, String expected) throws Exception {
        Path log = root.resolve("child.log");
        Process p = startCli(umask, log, "train", "rnn", "--backend", "cpu", "--iterations", "20",
                "--report-every", "10", "--quiet", "--trace", "t.jsonl", "--summary", "s.json");
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child run finishes");
        assertEquals(0, p.exitValue(), () -> readQuietly(log));
        assertEquals(expected, permissions(dir.resolve("t.jsonl")));
        assertEquals(expected, permissions(dir.resolve("s.json")));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rw-r-----", "rw-rw-rw-", "rw-------"})
    void replacedFilesKeepTheirPermissions(String mode) throws IOException {
        Path trace = Files.writeString(dir.resolve("t.jsonl"), "old\n");
        Files.setPosixFilePermissions(trace, PosixFilePermissions.fromString(mode));

        Run r = train(trace, null);

        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(trace).startsWith("{"), "replaced");
        assertEquals(mode, permissions(trace));
    }

    // ---------------------------------------------------------------- temporary files

    /** Whether {@code signal} is ignored in process {@code pid} (inherited as ignored, the JVM leaves it so). */
    private static boolean ignores(long pid, int signal) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("SigIgn:")) {
                long mask = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                return (mask & (1L << (signal - 1))) != 0;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "SIG{0}")
    @CsvSource({"TERM, 15", "INT, 2"})
    void anInterruptedRunLeavesNoTemporaryFile(String signal, int number) throws Exception {
        Path trace = Files.writeString(dir.resolve("t.jsonl"), "precious trace\n");
        Path log = root.resolve("child.log");
        Process p = startCli("022", log, "train", "rnn", "--backend", "cpu", "--iterations", "2000000000",
                "--report-every", "1", "--quiet", "--trace", "t.jsonl", "--summary", "s.json");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            boolean writing = false;
            while (!writing && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                try (Stream<Path> files = Files.list(dir)) {
                    writing = files.anyMatch(f -> f.getFileName().toString().startsWith(".t.jsonl.")
                            && sizeQuietly(f) > 0);
                }
            }
            assertTrue(writing, () -> "the child run should be writing its trace by now: " + readQuietly(log));
            assertEquals(2, temporaries().size(), () -> "a temporary trace and summary: " + temporariesQuietly());
            assumeFalse(ignores(p.pid(), number), "SIG" + signal + " is ignored in processes started here "
                    + "(inherited), so it cannot interrupt the child");

            assertEquals(0, exec("kill", "-" + signal, Long.toString(p.pid())));
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child ends on SIG" + signal);
            assertEquals(128 + number, p.exitValue(), () -> readQuietly(log));
            assertEquals(List.of(), temporaries(), "no temporary file left behind");
            assertEquals("precious trace\n", Files.readString(trace), "the old trace is left as it was");
            assertFalse(Files.exists(dir.resolve("s.json")), "no summary of an interrupted run");
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void staleTemporariesAreRemovedOnlyWhenTheirProcessIsGone() throws Exception {
        Process exited = new ProcessBuilder("sh", "-c", "exit 0").start();
        exited.waitFor();
        long dead = exited.pid();
        assumeFalse(ProcessHandle.of(dead).isPresent(), "pid " + dead + " was reused at once");
        Process concurrent = new ProcessBuilder("sleep", "120").start();
        try {
            long live = concurrent.pid();
            Path deadTrace = Files.writeString(dir.resolve(".t.jsonl.rnn4j-" + dead + "-k3x9.tmp"), "x".repeat(1000));
            Path deadOther = Files.writeString(dir.resolve(".other.json.rnn4j-" + dead + "-a1.tmp"), "x");
            Path liveTrace = Files.writeString(dir.resolve(".t.jsonl.rnn4j-" + live + "-z7.tmp"), "x");
            Path notOurs = Files.writeString(dir.resolve(".t.jsonl.12345.tmp"), "x");
            Path notOursEither = Files.writeString(dir.resolve(".t.jsonl.rnn4j-" + dead + ".tmp"), "x");

            Run r = train(dir.resolve("t.jsonl"), null);

            assertEquals(0, r.code(), r.err());
            assertFalse(Files.exists(deadTrace), "a dead run's temporary trace is removed");
            assertFalse(Files.exists(deadOther), "a dead run's temporary file for another target is removed");
            assertTrue(Files.exists(liveTrace), "a live run's temporary file is kept");
            assertTrue(Files.exists(notOurs), "a file not of rnn4j's naming is kept");
            assertTrue(Files.exists(notOursEither), "a file not of rnn4j's naming is kept");
        } finally {
            concurrent.destroyForcibly();
            concurrent.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static long sizeQuietly(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    private String temporariesQuietly() {
        try {
            return temporaries().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
