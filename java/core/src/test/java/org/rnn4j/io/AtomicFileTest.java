package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safe writer's contract, as a later user (a checkpoint writer) relies on it. */
class AtomicFileTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void bytesAppearOnlyOnCommit() throws Exception {
        Path target = Files.writeString(dir.resolve("weights.bin"), "old");
        byte[] data = new byte[300_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        try (AtomicFile f = AtomicFile.open(target, "checkpoint")) {
            OutputStream out = f.stream();
            out.write(data);
            assertEquals("old", Files.readString(target), "the target is untouched until commit");
            List<String> during = names();
            assertEquals(2, during.size(), during::toString);
            String temp = during.get(0);
            assertTrue(temp.matches("\\.weights\\.bin\\.rnn4j-" + ProcessHandle.current().pid() + "-[0-9a-z]+\\.tmp"),
                    temp);
            f.commit();
            f.commit();
        }
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(List.of("weights.bin"), names());
    }

    @Test
    void closingWithoutCommitDiscardsTheOutput() throws Exception {
        Path existing = Files.writeString(dir.resolve("t.jsonl"), "precious\n");
        try (AtomicFile f = AtomicFile.open(existing, "--trace")) {
            f.println("{\"iter\":0}");
        }
        try (AtomicFile f = AtomicFile.open(dir.resolve("new.json"), "--summary")) {
            f.stream().write(1);
        }
        assertEquals("precious\n", Files.readString(existing));
        assertEquals(List.of("t.jsonl"), names());
    }

    @Test
    void textIsUtf8Lines() throws Exception {
        Path target = dir.resolve("t.jsonl");
        try (AtomicFile f = AtomicFile.open(target, "--trace")) {
            f.println("één");
            f.writer().write("two\n");
            f.commit();
        }
        assertEquals("één\ntwo\n", Files.readString(target));
    }

    @Test
    void aFileIsWrittenEitherAsTextOrAsBytes() throws Exception {
        try (AtomicFile f = AtomicFile.open(dir.resolve("a"), "--trace")) {
            f.println("text");
            assertThrows(IllegalStateException.class, f::stream);
        }
        try (AtomicFile f = AtomicFile.open(dir.resolve("b"), "--trace")) {
            f.stream();
            assertThrows(IllegalStateException.class, () -> f.println("text"));
        }
    }

    /** The process umask, from {@code /proc/self/status} (Linux 4.7 and later). */
    private static int umask() throws IOException {
        Path status = Path.of("/proc/self/status");
        assumeTrue(Files.isReadable(status), "no /proc/self/status to read the umask from");
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("Umask:")) {
                return Integer.parseInt(line.substring(6).strip(), 8);
            }
        }
        assumeTrue(false, "this kernel does not show the umask in /proc/self/status");
        return 0;
    }

    private static int mode(Path p) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        int mode = 0;
        for (PosixFilePermission perm : EnumSet.allOf(PosixFilePermission.class)) {
            mode <<= 1;
            if (perms.contains(perm)) {
                mode |= 1;
            }
        }
        return mode;
    }

    @Test
    void aNewFileGetsTheModeTheUmaskGives() throws Exception {
        int expected = 0666 & ~umask();
        Path target = dir.resolve("s.json");
        try (AtomicFile f = AtomicFile.open(target, "--summary")) {
            f.println("{}");
            f.commit();
        }
        assertEquals(Integer.toOctalString(expected), Integer.toOctalString(mode(target)));
    }

    @Test
    void namesOfOneFileAreRecognised() throws Exception {
        Path file = Files.writeString(dir.resolve("x.json"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("x.json"));
        Path hard = Files.createLink(dir.resolve("hard"), file);
        try (AtomicFile a = AtomicFile.open(file, "a");
             AtomicFile b = AtomicFile.open(link, "b");
             AtomicFile c = AtomicFile.open(hard, "c");
             AtomicFile d = AtomicFile.open(dir.resolve("new"), "d");
             AtomicFile e = AtomicFile.open(dir.resolve("./new"), "e")) {
            assertTrue(a.writesSameFileAs(b));
            assertTrue(a.writesSameFileAs(c));
            assertTrue(c.writesSameFileAs(b));
            assertTrue(d.writesSameFileAs(e));
            assertFalse(a.writesSameFileAs(d));
            assertEquals(link, b.target(), "target() is the path as given");
        }
    }

    @Test
    void aChainOfLinksIsFollowedToItsEnd() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path end = sub.resolve("end.bin");
        Files.createSymbolicLink(dir.resolve("second"), Path.of("sub/end.bin"));
        Path first = Files.createSymbolicLink(dir.resolve("first"), Path.of("second"));
        try (AtomicFile f = AtomicFile.open(first, "out")) {
            f.stream().write(new byte[] {1, 2, 3});
            f.commit();
        }
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(end));
        assertTrue(Files.isSymbolicLink(first));
        assertTrue(Files.isSymbolicLink(dir.resolve("second")));
    }

    @Test
    void aFailedCommitNamesTheUsersPathAndLeavesNothing() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path target = sub.resolve("t.jsonl");
        AtomicFile f = AtomicFile.open(target, "--trace");
        f.println("line");
        try (Stream<Path> files = Files.list(sub)) {
            for (Path p : files.collect(Collectors.toList())) {
                Files.delete(p);
            }
        }
        Files.delete(sub);
        IOException e = assertThrows(IOException.class, f::commit);
        assertTrue(e.getMessage().startsWith("--trace: cannot save '" + target + "': "), e.getMessage());
        assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
        f.close();
        assertFalse(Files.exists(target));
    }

    @Test
    void refusalsNameTheOptionAndThePath() {
        Path missing = dir.resolve("no/such/file");
        AtomicFile.UnwritableException e = assertThrows(AtomicFile.UnwritableException.class,
                () -> AtomicFile.open(missing, "--summary"));
        assertEquals("--summary: cannot write '" + missing + "': no such directory '" + missing.getParent() + "'",
                e.getMessage());
        e = assertThrows(AtomicFile.UnwritableException.class, () -> AtomicFile.open(dir, "--trace"));
        assertTrue(e.getMessage().startsWith("--trace: cannot write '" + dir + "': it is a directory"),
                e.getMessage());
    }
}
