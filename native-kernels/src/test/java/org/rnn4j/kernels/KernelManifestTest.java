package org.rnn4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed fatbins against their sources, without nvcc: the manifest's source + flags hashes must match the
 * current sources (so a kernel edited without {@code build-kernels.sh --update} fails here), the fatbins must be the
 * ones the manifest records and hold code for the recorded architectures, every ABI entry point must be in its
 * family's source and in the sm_90 ptxas report, and no kernel may spill.
 */
class KernelManifestTest {

    private static final String STALE = "run native-kernels/build-kernels.sh --update";

    /** The ABI: each family's extern "C" entry points, without the _f32 / _f64 suffix (README.md). */
    private static final Map<String, List<String>> ENTRY_POINTS = new LinkedHashMap<>();

    static {
        ENTRY_POINTS.put("rnn_cell", List.of("rnn4j_sigmoid_forward", "rnn4j_sigmoid_backward"));
        ENTRY_POINTS.put("seed_lstm_cell", List.of("rnn4j_seed_lstm_forward", "rnn4j_seed_lstm_backward"));
        ENTRY_POINTS.put("standard_lstm_cell",
                List.of("rnn4j_standard_lstm_forward", "rnn4j_standard_lstm_backward"));
        ENTRY_POINTS.put("losses", List.of("rnn4j_cross_entropy_forward", "rnn4j_cross_entropy_mean_partial", "rnn4j_mean_finish",
                "rnn4j_cross_entropy_backward", "rnn4j_mse_partial", "rnn4j_mse_backward"));
        ENTRY_POINTS.put("reduce", List.of("rnn4j_sum_rows", "rnn4j_bias_add", "rnn4j_l2norm_partial",
                "rnn4j_l2norm_finish", "rnn4j_clip_coefficient", "rnn4j_scale_by"));
        ENTRY_POINTS.put("sgd", List.of("rnn4j_sgd_update"));
        ENTRY_POINTS.put("gemm", List.of("rnn4j_gemm"));
        ENTRY_POINTS.put("embedding", List.of("rnn4j_embedding_forward", "rnn4j_embedding_backward"));
        ENTRY_POINTS.put("dropout", List.of("rnn4j_dropout_forward", "rnn4j_dropout_backward"));
        ENTRY_POINTS.put("optim", List.of("rnn4j_adam_prepare", "rnn4j_adam_update", "rnn4j_sgd_prepare",
                "rnn4j_sgd_momentum_update"));
        ENTRY_POINTS.put("gemm_fast", List.of("rnn4j_gemm_fast"));
        ENTRY_POINTS.put("reduce_chunks", List.of("rnn4j_sum_rows_chunks"));
    }

    private static String sha256(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(p);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = KernelImages.class.getClassLoader().getResourceAsStream(name)) {
            assertNotNull(in, "classpath resource " + name);
            return in.readAllBytes();
        }
    }

    @Test
    void manifestListsTheFamiliesOfKernelImages() {
        Map<String, String> m = KernelImages.manifest();
        assertEquals(String.join(" ", KernelImages.FAMILIES), m.get("families"));
        assertEquals(KernelImages.FAMILIES, List.copyOf(ENTRY_POINTS.keySet()));
        assertTrue(m.get("nvcc").contains("release"), "nvcc version line: " + m.get("nvcc"));
        String flags = m.get("flags");
        for (String flag : List.of("-O3", "-fmad=false", "-std=c++17")) {
            assertTrue(List.of(flags.split(" ")).contains(flag), "flags must include " + flag + ": " + flags);
        }
    }

    @Test
    void sourceHashesMatchTheCurrentSources() throws IOException {
        Map<String, String> m = KernelImages.manifest();
        byte[] header = Files.readAllBytes(KernelTestFiles.cudaSources().resolve("rnn4j_math.cuh"));
        byte[] flags = m.get("flags").getBytes(StandardCharsets.UTF_8);
        for (String family : KernelImages.FAMILIES) {
            byte[] cu = Files.readAllBytes(KernelTestFiles.cudaSources().resolve(family + ".cu"));
            assertEquals(m.get("source_sha256." + family), sha256(cu, header, flags),
                    "kernel family " + family + ": src/main/cuda/" + family + ".cu or rnn4j_math.cuh changed since "
                            + "its fatbin was built: " + STALE);
        }
    }

    @Test
    void fatbinsAreTheRecordedOnesAndKernelImagesReturnsThem() throws IOException {
        Map<String, String> m = KernelImages.manifest();
        for (String family : KernelImages.FAMILIES) {
            byte[] committed = resource("org/rnn4j/kernels/" + family + ".fatbin");
            assertEquals(m.get("fatbin_sha256." + family), sha256(committed),
                    family + ".fatbin does not match kernels.manifest: " + STALE);
            assertArrayEquals(committed, KernelImages.fatbin(family), family);
        }
    }

    @Test
    void unknownFamilyIsRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelImages.fatbin("lstm"));
        assertTrue(e.getMessage().contains("'lstm'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelImages.fatbin(null));
    }

    @Test
    void architecturesCoverTuringToHopperAndEndWithPtx() {
        List<String> archs = KernelImages.architectures();
        for (String sm : List.of("sm_75", "sm_80", "sm_86", "sm_87", "sm_88", "sm_89", "sm_90", "sm_100", "sm_120")) {
            assertTrue(archs.contains(sm), "architectures " + archs + " lack " + sm);
        }
        assertTrue(archs.get(archs.size() - 1).startsWith("compute_"), "PTX architecture last: " + archs);
    }

    /** One entry of a fatbin container: kind 1 = PTX, 2 = ELF (SASS), its architecture number and its payload. */
    private record FatbinEntry(int kind, int arch, byte[] payload) {
    }

    /** Walks the fatbin container (header magic 0xBA55ED50), the way cuobjdump --list-elf / --list-ptx would. */
    private static List<FatbinEntry> entries(String family, byte[] fatbin) {
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xBA55ED50, b.getInt(0), family + ": not a fatbin");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long fatSize = b.getLong(8);
        assertEquals(fatbin.length, headerSize + fatSize, family + ": fatbin size");
        List<FatbinEntry> out = new ArrayList<>();
        long off = headerSize;
        while (off < fatbin.length) {
            int at = (int) off;
            int kind = Short.toUnsignedInt(b.getShort(at));
            long entryHeader = Integer.toUnsignedLong(b.getInt(at + 4));
            long payload = b.getLong(at + 8);
            int start = (int) (off + entryHeader);
            out.add(new FatbinEntry(kind, b.getInt(at + 28),
                    Arrays.copyOfRange(fatbin, start, (int) (start + payload))));
            off += entryHeader + payload;
        }
        assertEquals(fatbin.length, off, family + ": fatbin entries");
        return out;
    }

    @Test
    void fatbinsHoldSassWithEveryEntryPointForEveryArchitectureAndPtxForTheNewest() {
        List<String> archs = KernelImages.architectures();
        TreeSet<Integer> sass = new TreeSet<>();
        TreeSet<Integer> ptx = new TreeSet<>();
        for (String a : archs) {
            (a.startsWith("sm_") ? sass : ptx).add(Integer.parseInt(a.substring(a.indexOf('_') + 1)));
        }
        for (String family : KernelImages.FAMILIES) {
            TreeSet<Integer> gotSass = new TreeSet<>();
            TreeSet<Integer> gotPtx = new TreeSet<>();
            for (FatbinEntry e : entries(family, KernelImages.fatbin(family))) {
                (e.kind() == 2 ? gotSass : gotPtx).add(e.arch());
                if (e.kind() == 2) {
                    // A cubin: an ELF whose symbol names include every entry point of the family.
                    String elf = new String(e.payload(), StandardCharsets.ISO_8859_1);
                    assertTrue(elf.startsWith("\u007fELF"), family + " sm_" + e.arch() + ": not an ELF");
                    for (String base : ENTRY_POINTS.get(family)) {
                        for (String suffix : List.of("_f32", "_f64")) {
                            assertTrue(elf.contains(base + suffix + "\u0000"),
                                    family + " sm_" + e.arch() + " lacks the kernel " + base + suffix);
                        }
                    }
                }
            }
            assertEquals(sass, gotSass, family + ": SASS architectures");
            assertEquals(ptx, gotPtx, family + ": PTX architectures");
        }
    }

    @Test
    void everyEntryPointIsDefinedInItsFamilysSource() throws IOException {
        for (Map.Entry<String, List<String>> e : ENTRY_POINTS.entrySet()) {
            String src = Files.readString(KernelTestFiles.cudaSources().resolve(e.getKey() + ".cu"));
            assertTrue(src.contains("extern \"C\""), e.getKey() + ".cu has no extern \"C\" block");
            for (String base : e.getValue()) {
                for (String suffix : List.of("_f32", "_f64")) {
                    assertTrue(src.contains("__global__ void " + base + suffix + "("),
                            e.getKey() + ".cu does not define " + base + suffix);
                }
            }
        }
    }

    @Test
    void ptxasReportShowsNoSpillsForAnyKernel() throws IOException {
        Path report = KernelTestFiles.basedir().resolve("ptxas-sm90.txt");
        List<String> lines = Files.readAllLines(report);
        Pattern entry = Pattern.compile("Compiling entry function '(\\w+)' for 'sm_90'");
        Pattern spill = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");
        Map<String, String> spillLineOf = new LinkedHashMap<>();
        String current = null;
        for (String line : lines) {
            Matcher em = entry.matcher(line);
            if (em.find()) {
                current = em.group(1);
                continue;
            }
            Matcher sm = spill.matcher(line);
            if (sm.find()) {
                assertNotNull(current, "spill line before any entry function: " + line);
                assertEquals("0", sm.group(1), current + " spills on sm_90: " + line.strip());
                assertEquals("0", sm.group(2), current + " spills on sm_90: " + line.strip());
                spillLineOf.put(current, line);
            }
        }
        List<String> expected = new ArrayList<>();
        ENTRY_POINTS.values().forEach(bases -> bases.forEach(base -> {
            expected.add(base + "_f32");
            expected.add(base + "_f64");
        }));
        assertEquals(new TreeSet<>(expected), new TreeSet<>(spillLineOf.keySet()),
                "kernels in ptxas-sm90.txt (each with its spill line)");
        assertFalse(lines.isEmpty());
    }
}
