package org.rnn4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a text file or directory becomes the training text. */
class TextCorpusTest {

    @TempDir
    Path dir;

    @TempDir
    Path other;

    private final List<String> warnings = new ArrayList<>();

    private TextCorpus read(Path p) throws TextCorpusException {
        return TextCorpus.read(p, warnings::add);
    }

    private static String text(TextCorpus c) {
        int[] cps = c.codePoints();
        return new String(cps, 0, cps.length);
    }

    private Path write(String relative, byte[] content) throws Exception {
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        return Files.write(p, content);
    }

    private Path write(String relative, String content) throws Exception {
        return write(relative, content.getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256(byte[]... parts) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        for (byte[] p : parts) {
            d.update(p);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    @Test
    void aFileKeepsItsByteOrderMarkAndLineEndings() throws Exception {
        byte[] bytes = "\uFEFFone\r\ntwo\rthree\n\uD835\uDD38".getBytes(StandardCharsets.UTF_8);
        Path f = write("t.txt", bytes);
        TextCorpus c = read(f);
        assertEquals("\uFEFFone\r\ntwo\rthree\n\uD835\uDD38", text(c));
        assertEquals(0xFEFF, c.codePoints()[0]);
        assertEquals(0x1D538, c.codePoints()[c.length() - 1], "a supplementary character is one code point");
        assertEquals(17, c.length());
        assertEquals(sha256(bytes), c.sha256());
        assertEquals(bytes.length, c.byteCount());
        assertEquals(List.of("t.txt"), c.files());
        assertEquals(List.of(), warnings);
    }

    @Test
    void aDirectoryIsReadInTheUtf8ByteOrderOfRelativePaths() throws Exception {
        // UTF-8 byte order: B < a < sub.txt < sub/x < z < é < ﬀ (EF AC 80) < 𝔸 (F0 9D 94 B8).
        // String.compareTo (UTF-16) would put 𝔸 (D835 DD38) before ﬀ (FB00); sorting per directory level
        // would put sub/x before sub.txt.
        String[] names = {"z", "\uD835\uDD38", "sub/x", "a", "\u00e9", "sub.txt", "\uFB00", "B"};
        for (String n : names) {
            write(n, n + "|");
        }
        TextCorpus c = read(dir);
        List<String> order = List.of("B", "a", "sub.txt", "sub/x", "z", "\u00e9", "\uFB00", "\uD835\uDD38");
        assertEquals(order, c.files());
        assertEquals(String.join("|", order) + "|", text(c));
        assertTrue("\uD835\uDD38".compareTo("\uFB00") < 0, "UTF-16 order differs here, which is the point");
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String n : order) {
            all.write((n + "|").getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(sha256(all.toByteArray()), c.sha256());
        assertEquals(List.of(), warnings);
    }

    @Test
    void dotEntriesAndSymbolicLinksAreSkippedAtAnyDepth() throws Exception {
        Path a = write("a.txt", "A");
        write(".hidden", "H");
        write(".git/objects/x", "G");
        write("sub/.secret", "S");
        write("sub/.dir/y", "Y");
        write("sub/b.txt", "B");
        Path outside = Files.writeString(other.resolve("o.txt"), "O");
        Files.createSymbolicLink(dir.resolve("link-to-a.txt"), a);
        Files.createSymbolicLink(dir.resolve("link-outside.txt"), outside);
        Files.createSymbolicLink(dir.resolve("linkdir"), dir.resolve("sub"));
        Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        TextCorpus c = read(dir);
        assertEquals("AB", text(c));
        assertEquals(List.of("a.txt", "sub/b.txt"), c.files());
        assertEquals(List.of(), warnings);
        // the path given is followed even when it is a link, and may itself start with a dot
        Path rootLink = Files.createSymbolicLink(other.resolve(".link"), dir);
        TextCorpus viaLink = read(rootLink);
        assertEquals("AB", text(viaLink));
        assertEquals(c.sha256(), viaLink.sha256());
        assertEquals("A", text(read(dir.resolve("link-to-a.txt"))));
        Files.delete(dir.resolve("link-outside.txt")); // so that no clean-up meets a link leaving its directory
        Files.delete(rootLink);
    }

    @Test
    void aFileInADirectoryThatIsNotUtf8IsSkippedWithOneWarning() throws Exception {
        write("1.txt", "one ");
        write("2-latin1.txt", new byte[] {'c', 'a', 'f', (byte) 0xE9, ' '});
        write("3-overlong.txt", new byte[] {(byte) 0xC0, (byte) 0xAF});
        write("4-surrogate.txt", new byte[] {'x', (byte) 0xED, (byte) 0xA0, (byte) 0x80});
        write("5-cut.txt", new byte[] {'y', (byte) 0xE2, (byte) 0x82});
        write("6-above-max.txt", new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80});
        write("7.txt", "seven");
        TextCorpus c = read(dir);
        assertEquals("one seven", text(c));
        assertEquals(List.of("1.txt", "7.txt"), c.files());
        assertEquals(sha256("one ".getBytes(StandardCharsets.UTF_8), "seven".getBytes(StandardCharsets.UTF_8)),
                c.sha256());
        assertEquals(5, warnings.size(), warnings::toString);
        assertEquals("skipping '" + dir.resolve("2-latin1.txt") + "': not valid UTF-8 text (at byte 3)",
                warnings.get(0));
        assertTrue(warnings.get(1).contains("3-overlong.txt': not valid UTF-8 text (at byte 0)"), warnings.get(1));
        assertTrue(warnings.get(2).contains("4-surrogate.txt': not valid UTF-8 text (at byte 1)"), warnings.get(2));
        assertTrue(warnings.get(3).contains("5-cut.txt': not valid UTF-8 text (at byte 1)"), warnings.get(3));
        assertTrue(warnings.get(4).contains("6-above-max.txt': not valid UTF-8 text (at byte 0)"), warnings.get(4));
    }

    @Test
    void aSingleFileThatIsNotUtf8IsAnErrorNamingTheOffset() throws Exception {
        byte[] big = new byte[200_000];
        java.util.Arrays.fill(big, (byte) 'a');
        big[150_001] = (byte) 0x80;
        Path f = write("big.txt", big);
        TextCorpusException e = assertThrows(TextCorpusException.class, () -> read(f));
        assertEquals("'" + f + "' is not valid UTF-8 text (at byte 150001)", e.getMessage());
    }

    @Test
    void longTextsDecodeAcrossChunksLikeTheJdk() throws Exception {
        Random r = new Random(7);
        StringBuilder b = new StringBuilder();
        int[] pool = {'a', '\n', 0xE9, 0x20AC, 0xFEFF, 0x1D538, 0x1F600, 0x10FFFF, 0};
        while (b.length() < 300_000) {
            b.appendCodePoint(pool[r.nextInt(pool.length)]);
        }
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        TextCorpus c = read(write("long.txt", bytes));
        assertArrayEquals(b.toString().codePoints().toArray(), c.codePoints());
    }

    @Test
    void emptyMissingAndStrangePathsAreClearErrors() throws Exception {
        Path empty = write("e/empty.txt", "");
        assertEquals("'" + empty + "' is empty: there is no text to train on",
                assertThrows(TextCorpusException.class, () -> read(empty)).getMessage());
        assertTrue(assertThrows(TextCorpusException.class, () -> read(dir.resolve("e"))).getMessage()
                .endsWith("holds no text: its 1 UTF-8 file is empty"));
        Files.createDirectories(dir.resolve("nothing/.dot"));
        assertTrue(assertThrows(TextCorpusException.class, () -> read(dir.resolve("nothing"))).getMessage()
                .contains("no readable UTF-8 file in it"));
        write("bad/x", new byte[] {(byte) 0xFF});
        assertTrue(assertThrows(TextCorpusException.class, () -> read(dir.resolve("bad"))).getMessage()
                .contains("no readable UTF-8 file in it"));
        assertEquals(1, warnings.size());
        assertEquals("cannot read '" + dir.resolve("missing") + "': no such file or directory",
                assertThrows(TextCorpusException.class, () -> read(dir.resolve("missing"))).getMessage());
    }

    @Test
    void aFifoInADirectoryIsSkippedWithAWarning() throws Exception {
        write("a.txt", "A");
        Path fifo = dir.resolve("pipe");
        int rc = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        assumeTrue(rc == 0, "mkfifo is not available here");
        assertEquals("A", text(read(dir)));
        assertEquals(List.of("skipping '" + fifo + "': not a regular file"), warnings);
    }

    @Test
    void anUnreadableEntryIsAnError() throws Exception {
        write("a.txt", "A");
        Path locked = write("sub/locked.txt", "L");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(locked), "running as root: permissions do not stop reading here");
        TextCorpusException e = assertThrows(TextCorpusException.class, () -> read(dir));
        assertEquals("cannot read '" + locked + "': permission denied", e.getMessage());
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rw-------"));
        Path sub = dir.resolve("sub");
        Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("---------"));
        try {
            e = assertThrows(TextCorpusException.class, () -> read(dir));
            assertEquals("cannot read '" + sub + "': permission denied", e.getMessage());
        } finally {
            Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwx------"));
        }
    }
}
