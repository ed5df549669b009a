package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.charlm.CharLmCheckpoint;
import org.rnn4j.charlm.CharLmFixtures;
import org.rnn4j.io.CheckpointFormatException;

/**
 * Training in a separate JVM, stopped from outside: killed with SIGKILL at random moments (while it saves a checkpoint
 * after every update), the checkpoint always loads and the run resumes; the chain of killed and resumed runs ends
 * bit for bit where an uninterrupted run ends. Ctrl-C (SIGINT) finishes the update, saves and exits 130.
 */
class CharLmKillTest {

    private static final int KILLS = 6;
    private static final String[] TINY = {"--layers", "2", "--hidden", "8", "--embedding", "4", "--seq-len", "6",
        "--batch", "3", "--val-every", "7", "--val-fraction", "0.2", "--dropout", "0.2", "--backend", "cpu"};

    @TempDir
    Path dir;
    Path text;

    @BeforeEach
    void writeText() throws IOException {
        text = dir.resolve("text.txt");
        Files.writeString(text, CharLmFixtures.text(900), StandardCharsets.UTF_8);
    }

    private Process start(Path checkpoint, boolean resume, Path trace, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "train", "charlm", "--text", text.toString(), "--steps", "1000000",
                "--save-every", "1", "--checkpoint", checkpoint.toString()));
        cmd.addAll(List.of(TINY));
        if (resume) {
            cmd.addAll(List.of("--resume", checkpoint.toString()));
        }
        if (trace != null) {
            cmd.addAll(List.of("--trace", trace.toString()));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until the checkpoint exists with a step above {@code above}; returns that step. */
    private static long waitForStep(Path checkpoint, long above, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                fail("the training process ended early (exit " + p.exitValue() + "): " + Files.readString(log));
            }
            if (Files.exists(checkpoint)) {
                long step = CharLmCheckpoint.read(checkpoint).step(); // a whole file at every moment
                if (step > above) {
                    return step;
                }
            }
            Thread.sleep(10);
        }
        p.destroyForcibly();
        fail("no checkpoint beyond step " + above + " within 60 s: " + Files.readString(log));
        return -1;
    }

    @Test
    void killedAtRandomMomentsTheCheckpointAlwaysLoadsAndTheRunResumesExactly() throws Exception {
        Path ck = dir.resolve("ck.safetensors");
        Path log = dir.resolve("log.txt");
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);
        long step = 0;
        List<Long> killedAt = new ArrayList<>();
        for (int round = 0; round < KILLS; round++) {
            Process p = start(ck, round > 0, null, log);
            try {
                waitForStep(ck, step, p, log);
                Thread.sleep(random.nextInt(250)); // a random moment: mid-update, mid-save, mid-rename
            } finally {
                p.destroyForcibly(); // SIGKILL
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            }
            CharLmCheckpoint c;
            try {
                c = CharLmCheckpoint.read(ck);
            } catch (CheckpointFormatException e) {
                throw new AssertionError("after kill " + (round + 1) + " (random seed " + seed + ") the checkpoint "
                        + "does not load: " + e.getMessage(), e);
            }
            assertTrue(c.step() > step, "the resumed run made progress: " + step + " -> " + c.step());
            step = c.step();
            killedAt.add(step);
        }
        System.out.println("CharLmKillTest: killed at checkpoint steps " + killedAt + " (random seed " + seed + ")");
        // The last kill may leave a temporary file; the next run in the directory removes it.
        long target = step + 3;
        CliTest.Run r = CliTest.run(concat(new String[] {"train", "charlm", "--text", text.toString(), "--steps",
            Long.toString(target), "--resume", ck.toString(), "--quiet"}, TINY));
        assertEquals(0, r.code(), r.err());
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(List.of("ck.safetensors", "log.txt", "text.txt"), names, "no temporary file stays");
        }
        Path straight = dir.resolve("straight.safetensors");
        r = CliTest.run(concat(new String[] {"train", "charlm", "--text", text.toString(), "--steps",
            Long.toString(target), "--checkpoint", straight.toString(), "--quiet"}, TINY));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(ck), "killed " + KILLS + " times (at "
                + "steps " + killedAt + ", seed " + seed + ") and resumed, the run ends where an uninterrupted one does");
    }

    @Test
    void ctrlCFinishesTheUpdateSavesAndExits130() throws Exception {
        Path ck = dir.resolve("ck.safetensors");
        Path trace = dir.resolve("trace.jsonl");
        Path log = dir.resolve("log.txt");
        Process p = start(ck, false, trace, log);
        try {
            waitForStep(ck, 3, p, log);
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run stops after SIGINT");
        } finally {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        assertEquals(TrainCharLmCommand.INTERRUPTED, p.exitValue(), out);
        assertTrue(out.contains("rnn4j: interrupted: stopped after step "), out);
        long stopped = Long.parseLong(out.replaceAll("(?s).*interrupted: stopped after step (\\d+).*", "$1"));
        assertEquals(stopped, CharLmCheckpoint.read(ck).step());
        List<String> lines = Files.readAllLines(trace);
        assertEquals(stopped, lines.size(), "one trace line per update done");
        assertTrue(lines.get(lines.size() - 1).startsWith("{\"step\": " + stopped + ", "));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(4, files.count(), "no temporary file stays");
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
