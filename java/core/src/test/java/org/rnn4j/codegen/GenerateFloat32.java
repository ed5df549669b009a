package org.rnn4j.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates the float32 CPU sources from their float64 originals, which are the only ones written by hand (the idea of
 * EJML's {@code GenerateCode32}): {@code CpuBackend64.java} gives {@code CpuBackend32.java} and
 * {@code CpuGemmKernels64.java} gives {@code CpuGemmKernels32.java}. Run it from the repository root after editing a
 * float64 source:
 *
 * <pre>
 * java java/core/src/test/java/org/rnn4j/codegen/GenerateFloat32.java           # rewrite the float32 files
 * java java/core/src/test/java/org/rnn4j/codegen/GenerateFloat32.java --check   # exit 1 if one is out of date
 * </pre>
 *
 * {@code GeneratedFloat32Test} regenerates in memory and compares with the committed files byte for byte.
 *
 * <p>The rules, applied to a Java token stream (so that comments, strings and numbers are told apart from code):
 * <ol>
 *   <li>In code, {@code double} becomes {@code float}, {@code Double.X} becomes {@code Float.X} (for the members in
 *       {@link #DOUBLE_MEMBERS}), and a floating-point literal gets the suffix {@code f} ({@code 0.5} becomes
 *       {@code 0.5f}, {@code 2d} becomes {@code 2f}).</li>
 *   <li>Everywhere (code, comments, strings), a word ending in {@code 64} ends in {@code 32}: {@code CpuBackend64},
 *       {@code FLOAT64}, {@code "float64"}; number literals such as {@code 64} are not words.</li>
 *   <li>{@code Math.f(...)} (or {@code StrictMath}) for the functions that exist only in double
 *       ({@link #ROUNDED_MATH}: exp, tanh, log, sqrt, ...) becomes {@code (float) Math.f(...)}: evaluated in double and
 *       rounded once to float, as the float32 backends document (and as the CUDA kernels' float entry points
 *       compute). Functions with a float overload ({@link #OVERLOADED_MATH}: abs, max, min, ...) stay as written; any
 *       other {@code Math} function is an error.</li>
 *   <li>The signature of a method marked {@code @Override} is kept as written but for rule 2: it overrides a
 *       precision-neutral supertype (the {@code Backend} operations take {@code double} scalars and
 *       {@code double[]} host arrays in both precisions). In its body, such a {@code double} parameter must enter
 *       the arithmetic through an explicit cast, {@code (double) learningRate}, which rule 1 turns into
 *       {@code (float) learningRate}; a {@code double[]} parameter may be assigned to ({@code dst[i] = ...}),
 *       measured ({@code dst.length}) or read through such a cast. Any other use is an error, since in the float32
 *       output it would silently compute in double.</li>
 *   <li>A line of code that must read differently in float32 ends with the marker comment
 *       {@code // f32: <the float32 line>}: the float32 file gets that text verbatim, with the line's indentation,
 *       and no rule or check applies to the line. {@code // f32: unchanged} keeps the line exactly as in float64
 *       (say, a scalar deliberately computed in double in both precisions).</li>
 *   <li>The class Javadoc is replaced by the one given here for the target ({@link #TARGETS}), and a header naming
 *       the source, this generator and the command goes at the top.</li>
 * </ol>
 * Also errors: a float literal ({@code 1f}) in the float64 source, and {@code import static} of {@code Math}. Errors
 * are reported all together with the source line; nothing is written when there is one.
 */
public final class GenerateFloat32 {

    /** The command that regenerates the float32 files, run from the repository root. */
    public static final String COMMAND = "java java/core/src/test/java/org/rnn4j/codegen/GenerateFloat32.java";

    /** Where the sources are, relative to the {@code java/core} module. */
    public static final String SOURCE_DIR = "src/main/java/org/rnn4j/backend/cpu";

    /** One generated file: its float64 source, its name, and its class Javadoc (without comment delimiters). */
    public record Target(String source, String target, String classDoc) {
    }

    /** The generated files. */
    public static final List<Target> TARGETS = List.of(
            new Target("CpuBackend64.java", "CpuBackend32.java", String.join("\n",
                    "The CPU reference backend in single precision: storage and arithmetic in {@code float} (exp and",
                    "tanh are evaluated in double and rounded once, but for the standard LSTM cell's activations,",
                    "which are {@link CpuActivations32}'s vectorised approximations). It is {@link CpuBackend64} with",
                    "{@code double} made {@code float}, generated from it; both are tested against the same formulas.")),
            new Target("CpuGemmKernels64.java", "CpuGemmKernels32.java", String.join("\n",
                    "The float32 kernels of {@link CpuGemm}: {@link CpuGemmKernels64} with {@code double} made",
                    "{@code float}, generated from it. Products are summed in {@code float}, in the same order.")));

    /** {@code Math} functions with a float overload (or integer-only): kept as written. */
    static final Set<String> OVERLOADED_MATH = Set.of("abs", "max", "min", "signum", "copySign", "fma", "ulp",
            "nextUp", "nextDown", "scalb", "getExponent", "absExact", "addExact", "subtractExact", "multiplyExact",
            "negateExact", "incrementExact", "decrementExact", "toIntExact", "floorDiv", "floorMod",
            "multiplyHigh", "multiplyFull");

    /**
     * {@code Math} functions that exist only in double: cast to float. (For sqrt, floor, ceil and rint that is the
     * float result exactly; for the others it is the double result rounded once.)
     */
    static final Set<String> ROUNDED_MATH = Set.of("exp", "expm1", "log", "log1p", "log10", "tanh", "sinh", "cosh",
            "sqrt", "cbrt", "pow", "hypot", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "floor", "ceil",
            "rint");

    /** {@code Double} members with a {@code Float} twin of the same meaning. */
    static final Set<String> DOUBLE_MEMBERS = Set.of("NaN", "POSITIVE_INFINITY", "NEGATIVE_INFINITY", "MAX_VALUE",
            "MIN_VALUE", "MIN_NORMAL", "isNaN", "isFinite", "isInfinite", "compare", "sum", "max", "min", "BYTES",
            "SIZE");

    private static final String MARKER = "// f32:";
    private static final String UNCHANGED = "unchanged";
    private static final Pattern WORD_64 = Pattern.compile("\\b([A-Za-z_][A-Za-z_0-9]*?)64\\b");

    private GenerateFloat32() {
    }

    /** The float64 source could not be translated; the message lists every problem with its line. */
    public static final class GenerationException extends Exception {
        private static final long serialVersionUID = 1L;

        GenerationException(String message) {
            super(message);
        }
    }

    /** The float32 file for {@code target}, from the text of its float64 source. */
    public static String generate(Target target, String source) throws GenerationException {
        return new Translator(target, source).run();
    }

    /** The float32 file for {@code target}, from the float64 source in {@code dir}. */
    public static String generate(Target target, Path dir) throws IOException, GenerationException {
        return generate(target, Files.readString(dir.resolve(target.source()), StandardCharsets.UTF_8));
    }

    /** The directory of the CPU sources seen from {@code start}: the repository root or the {@code java/core} module. */
    public static Path sourceDir(Path start) {
        for (Path candidate : List.of(start.resolve(SOURCE_DIR), start.resolve("java/core").resolve(SOURCE_DIR))) {
            if (Files.isRegularFile(candidate.resolve(TARGETS.get(0).source()))) {
                return candidate;
            }
        }
        throw new IllegalStateException("cannot find " + SOURCE_DIR + "/" + TARGETS.get(0).source() + " under "
                + start.toAbsolutePath() + " or its java/core/ folder; run from the repository root");
    }

    /**
     * Regenerates every target (or, with {@code --check}, only compares). Exit status 0 when done (or up to date), 1
     * when a target is out of date under {@code --check} or a source cannot be translated, 2 for bad arguments.
     */
    public static void main(String[] args) throws IOException {
        boolean check = false;
        for (String a : args) {
            if (a.equals("--check")) {
                check = true;
            } else {
                System.err.println("GenerateFloat32: unknown argument '" + a + "' (usage: " + COMMAND
                        + " [--check])");
                System.exit(2);
            }
        }
        Path dir;
        try {
            dir = sourceDir(Path.of(""));
        } catch (IllegalStateException e) {
            System.err.println("GenerateFloat32: " + e.getMessage());
            System.exit(2);
            return;
        }
        Map<Target, String> out = new HashMap<>();
        boolean failed = false;
        for (Target t : TARGETS) {
            try {
                out.put(t, generate(t, dir));
            } catch (GenerationException e) {
                System.err.println(e.getMessage());
                failed = true;
            }
        }
        if (failed) {
            System.err.println("GenerateFloat32: nothing written");
            System.exit(1);
        }
        int stale = 0;
        for (Target t : TARGETS) {
            Path file = dir.resolve(t.target());
            String now = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
            if (out.get(t).equals(now)) {
                System.out.println("up to date: " + file);
            } else if (check) {
                System.out.println("OUT OF DATE: " + file + " (regenerate with: " + COMMAND + ")");
                stale++;
            } else {
                Files.writeString(file, out.get(t), StandardCharsets.UTF_8);
                System.out.println("wrote: " + file);
            }
        }
        System.exit(stale == 0 ? 0 : 1);
    }

    // ----- the translation -----

    private enum Kind { SPACE, LINE_COMMENT, BLOCK_COMMENT, STRING, CHAR, NUMBER, WORD, OP }

    private record Token(Kind kind, String text, int line) {
        boolean is(String s) {
            return (kind == Kind.OP || kind == Kind.WORD) && text.equals(s);
        }

        boolean significant() {
            return kind != Kind.SPACE && kind != Kind.LINE_COMMENT && kind != Kind.BLOCK_COMMENT;
        }
    }

    private static final String[] OPERATORS = {">>>=", "<<=", ">>=", ">>>", "...", "==", "!=", "<=", ">=", "&&",
        "||", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "->", "::", "<<"};

    /** A small Java lexer: enough to tell comments, strings, characters, numbers and words apart. */
    static List<Token> lex(String s) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int line = 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            int start = i;
            Kind kind;
            if (Character.isWhitespace(c)) {
                while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                kind = Kind.SPACE;
            } else if (s.startsWith("//", i)) {
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
                kind = Kind.LINE_COMMENT;
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("line " + line + ": unterminated comment");
                }
                i = end + 2;
                kind = Kind.BLOCK_COMMENT;
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                if (end < 0) {
                    throw new IllegalArgumentException("line " + line + ": unterminated text block");
                }
                i = end + 3;
                kind = Kind.STRING;
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < s.length() && s.charAt(i) != c) {
                    if (s.charAt(i) == '\\') {
                        i++;
                    }
                    if (i < s.length() && s.charAt(i) == '\n') {
                        throw new IllegalArgumentException("line " + line + ": unterminated literal");
                    }
                    i++;
                }
                i++;
                kind = c == '"' ? Kind.STRING : Kind.CHAR;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                i = number(s, i);
                kind = Kind.NUMBER;
            } else if (Character.isJavaIdentifierStart(c)) {
                while (i < s.length() && Character.isJavaIdentifierPart(s.charAt(i))) {
                    i++;
                }
                kind = Kind.WORD;
            } else {
                i++;
                for (String op : OPERATORS) {
                    if (s.startsWith(op, start)) {
                        i = start + op.length();
                        break;
                    }
                }
                kind = Kind.OP;
            }
            String text = s.substring(start, Math.min(i, s.length()));
            tokens.add(new Token(kind, text, line));
            for (int j = 0; j < text.length(); j++) {
                if (text.charAt(j) == '\n') {
                    line++;
                }
            }
        }
        return tokens;
    }

    /** The end of the number literal at {@code i}: digits, underscores, a point, an exponent with its sign. */
    private static int number(String s, int i) {
        boolean hex = s.startsWith("0x", i) || s.startsWith("0X", i);
        if (hex) {
            i += 2;
        }
        while (i < s.length()) {
            char c = s.charAt(i);
            boolean exponent = hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E');
            if (exponent && i + 1 < s.length() && (s.charAt(i + 1) == '+' || s.charAt(i + 1) == '-')) {
                i += 2;
            } else if (Character.isLetterOrDigit(c) || c == '_' || c == '.') {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    /** Whether a number literal is a floating-point one (and so has a float64 meaning). */
    private static boolean isFloatingLiteral(String n) {
        String lower = n.toLowerCase();
        if (lower.startsWith("0x")) {
            return lower.contains("p");
        }
        return lower.contains(".") || lower.contains("e") || lower.endsWith("d") || lower.endsWith("f");
    }

    private static String words64(String text) {
        return WORD_64.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "32"));
    }

    /** One translation: walks the tokens once, writing the output and collecting errors by line. */
    private static final class Translator {
        private final Target target;
        private final String source;
        private final List<Token> tokens;
        private final StringBuilder out = new StringBuilder();
        private final TreeMap<Integer, List<String>> errors = new TreeMap<>();
        /** Lines that end with the marker: line number to the float32 text. */
        private final Map<Integer, String> markedLines = new HashMap<>();

        Translator(Target target, String source) throws GenerationException {
            this.target = target;
            this.source = source;
            try {
                this.tokens = lex(source);
            } catch (IllegalArgumentException e) {
                throw new GenerationException(target.source() + ": " + e.getMessage());
            }
        }

        private void error(int line, String message) {
            errors.computeIfAbsent(line, l -> new ArrayList<>()).add(message);
        }

        private int next(int i) {
            i++;
            while (i < tokens.size() && !tokens.get(i).significant()) {
                i++;
            }
            return i;
        }

        private int previous(int i) {
            i--;
            while (i >= 0 && !tokens.get(i).significant()) {
                i--;
            }
            return i;
        }

        private boolean is(int i, String s) {
            return i >= 0 && i < tokens.size() && tokens.get(i).is(s);
        }

        /** Whether the token at {@code i} is preceded by the cast {@code (double)}. */
        private boolean castToDouble(int i) {
            int close = previous(i);
            int type = previous(close);
            int open = previous(type);
            return is(close, ")") && is(type, "double") && is(open, "(");
        }

        String run() throws GenerationException {
            findMarkers();
            int classDoc = findClassDoc();
            // The @Override method being read: its double parameters (name to whether it is an array).
            Map<String, Boolean> apiParams = new HashMap<>();
            boolean inSignature = false;
            int parenDepth = 0;
            int braceDepth = 0;
            int bodyDepth = -1; // the brace depth inside the current @Override body, -1 when not in one
            String methodName = null;
            for (int i = 0; i < tokens.size(); i++) {
                Token t = tokens.get(i);
                String text = t.text();
                switch (t.kind()) {
                    case SPACE, CHAR -> out.append(text);
                    case LINE_COMMENT, STRING -> out.append(words64(text));
                    case BLOCK_COMMENT -> {
                        if (i == classDoc) {
                            out.append("/**\n");
                            for (String line : target.classDoc().split("\n", -1)) {
                                out.append(" * ").append(line).append('\n');
                            }
                            out.append(" */");
                        } else {
                            out.append(words64(text));
                        }
                    }
                    case NUMBER -> {
                        if (!isFloatingLiteral(text)) {
                            out.append(text);
                        } else if (text.endsWith("f") || text.endsWith("F")) {
                            error(t.line(), "float literal " + text + " in the float64 source (write it as a double"
                                    + " literal, which becomes a float literal in float32)");
                            out.append(text);
                        } else if (text.endsWith("d") || text.endsWith("D")) {
                            out.append(text, 0, text.length() - 1).append('f');
                        } else {
                            out.append(text).append('f');
                        }
                    }
                    case OP -> {
                        out.append(text);
                        if (text.equals("@") && is(next(i), "Override")) {
                            inSignature = true;
                            methodName = null;
                            apiParams.clear();
                        } else if (text.equals("(")) {
                            parenDepth++;
                        } else if (text.equals(")")) {
                            parenDepth--;
                        } else if (text.equals("{")) {
                            braceDepth++;
                            if (inSignature && parenDepth == 0) {
                                inSignature = false;
                                bodyDepth = braceDepth;
                            }
                        } else if (text.equals("}")) {
                            if (braceDepth == bodyDepth) {
                                bodyDepth = -1;
                                apiParams.clear();
                            }
                            braceDepth--;
                        } else if (text.equals(";") && inSignature && parenDepth == 0) {
                            inSignature = false; // an abstract or interface method: no body
                        }
                    }
                    case WORD -> {
                        if (inSignature) {
                            if (methodName == null && is(next(i), "(") && !is(previous(i), "@")) {
                                methodName = text;
                            }
                            if (text.equals("double")) {
                                int j = next(i);
                                boolean array = false;
                                while (is(j, "[") || is(j, "]") || is(j, "...")) {
                                    array = true;
                                    j = next(j);
                                }
                                if (j < tokens.size() && tokens.get(j).kind() == Kind.WORD && !is(next(j), "(")) {
                                    apiParams.put(tokens.get(j).text(), array);
                                }
                            }
                            out.append(words64(text));
                        } else {
                            if (bodyDepth >= 0 && apiParams.containsKey(text) && !is(previous(i), ".")) {
                                checkApiUse(i, text, apiParams.get(text), methodName);
                            }
                            word(i, t);
                        }
                    }
                    default -> throw new AssertionError(t.kind());
                }
                if (t.kind() == Kind.LINE_COMMENT) {
                    applyMarker(t);
                }
            }
            for (Integer line : markedLines.keySet()) {
                errors.remove(line);
            }
            if (!errors.isEmpty()) {
                StringBuilder m = new StringBuilder(target.source() + " cannot be translated to "
                        + target.target() + ":");
                errors.forEach((line, list) -> list.forEach(e -> m.append("\n  ").append(target.source())
                        .append(':').append(line).append(": ").append(e)));
                throw new GenerationException(m.toString());
            }
            return header() + out;
        }

        private String header() {
            return "// GENERATED by org.rnn4j.codegen.GenerateFloat32 from " + target.source() + ": do not edit.\n"
                    + "// Edit " + target.source() + " (or the generator's rules) and regenerate, from the repository"
                    + " root:\n"
                    + "//     " + COMMAND + "\n";
        }

        /** A word in code, outside an {@code @Override} signature. */
        private void word(int i, Token t) {
            String text = t.text();
            switch (text) {
                case "double" -> out.append("float");
                case "Double" -> {
                    int dot = next(i);
                    if (is(dot, ".")) {
                        int member = next(dot);
                        String name = member < tokens.size() ? tokens.get(member).text() : "";
                        if (!DOUBLE_MEMBERS.contains(name)) {
                            error(t.line(), "Double." + name + " has no rule (known: " + sorted(DOUBLE_MEMBERS) + ")");
                        }
                    }
                    out.append("Float");
                }
                case "Math", "StrictMath" -> {
                    int dot = next(i);
                    int fn = next(dot);
                    if (is(dot, ".") && fn < tokens.size() && is(next(fn), "(")) {
                        String name = tokens.get(fn).text();
                        if (ROUNDED_MATH.contains(name)) {
                            if (!castToDouble(i)) {
                                out.append("(float) ");
                            }
                        } else if (!OVERLOADED_MATH.contains(name)) {
                            error(t.line(), text + "." + name + " has no rule: add it to ROUNDED_MATH (double only,"
                                    + " cast the result) or OVERLOADED_MATH (has a float overload) in"
                                    + " GenerateFloat32, or mark the line with " + MARKER);
                        }
                    }
                    out.append(text);
                }
                case "import" -> {
                    StringBuilder imported = new StringBuilder();
                    for (int j = next(i); j < tokens.size() && !is(j, ";"); j = next(j)) {
                        imported.append(tokens.get(j).text());
                    }
                    if (imported.toString().matches("static(java\\.lang\\.)?(Strict)?Math\\..*")) {
                        error(t.line(), "import static of Math (calls must read Math.f(...) so that the float32"
                                + " rule sees them)");
                    }
                    out.append(text);
                }
                default -> out.append(words64(text));
            }
        }

        /** A use of a float64 parameter of an overridden (precision-neutral) method inside its body. */
        private void checkApiUse(int i, String name, boolean array, String method) {
            if (castToDouble(i)) {
                return;
            }
            int after = next(i);
            if (array && is(after, ".") && is(next(after), "length")) {
                return;
            }
            if (array && is(after, "[")) {
                int depth = 0;
                int j = after;
                for (; j < tokens.size(); j = next(j)) {
                    if (is(j, "[")) {
                        depth++;
                    } else if (is(j, "]") && --depth == 0) {
                        break;
                    }
                }
                if (is(next(j), "=")) {
                    return; // a store: the float value widens to the API's double
                }
            }
            error(tokens.get(i).line(), "'" + name + "' is a double parameter of " + method + ", whose signature"
                    + " float32 keeps: " + (array ? "read (double) " + name + "[...]" : "write (double) " + name)
                    + " where it enters the arithmetic (it becomes (float)), or mark the line with " + MARKER
                    + " ...; as written, float32 would silently compute in double");
        }

        /** Lines ending with the marker comment, and the text they get in float32. */
        private void findMarkers() {
            for (Token t : tokens) {
                if (t.kind() == Kind.LINE_COMMENT && t.text().startsWith(MARKER)) {
                    String replacement = t.text().substring(MARKER.length()).strip();
                    if (replacement.isEmpty()) {
                        error(t.line(), "empty " + MARKER + " marker");
                    }
                    markedLines.put(t.line(), replacement);
                }
            }
        }

        /** When a marked line's comment has been written: replace what was written for the line. */
        private void applyMarker(Token t) {
            if (!t.text().startsWith(MARKER)) {
                return;
            }
            int lineStart = out.lastIndexOf("\n") + 1;
            String[] lines = source.split("\n", -1);
            String sourceLine = lines[t.line() - 1];
            String indent = sourceLine.substring(0, sourceLine.length() - sourceLine.stripLeading().length());
            String replacement = markedLines.get(t.line());
            if (replacement.equals(UNCHANGED)) {
                replacement = sourceLine.substring(0, sourceLine.lastIndexOf(MARKER)).strip();
            }
            out.setLength(lineStart);
            out.append(indent).append(replacement);
        }

        /** The index of the Javadoc before the first top-level type, which the target's own replaces. */
        private int findClassDoc() throws GenerationException {
            int depth = 0;
            int lastDoc = -1;
            for (int i = 0; i < tokens.size(); i++) {
                Token t = tokens.get(i);
                if (t.kind() == Kind.BLOCK_COMMENT && t.text().startsWith("/**") && depth == 0) {
                    lastDoc = i;
                } else if (t.is("{")) {
                    depth++;
                } else if (t.is("}")) {
                    depth--;
                } else if (depth == 0 && (t.is("class") || t.is("interface") || t.is("enum") || t.is("record"))) {
                    if (lastDoc < 0) {
                        throw new GenerationException(target.source() + ": no Javadoc before the top-level type");
                    }
                    return lastDoc;
                } else if (depth == 0 && (t.is("import") || t.is("package"))) {
                    lastDoc = -1;
                }
            }
            throw new GenerationException(target.source() + ": no top-level type");
        }
    }

    private static String sorted(Set<String> set) {
        return String.join(", ", new java.util.TreeSet<>(set));
    }
}
