# rewrite k<<<g, b, s, st>>>(args); into pp_emu_launch(dim3(g), dim3(b), s, [=]{ k(args); }) and shared decls
import re, sys
src = open(sys.argv[1]).read()
out = []
i = 0
while True:
    j = src.find('<<<', i)
    if j < 0:
        out.append(src[i:]); break
    # kernel expression: back from j to the start of the statement (after ; { } or newline indentation)
    # the formatter may put the kernel name on the line before <<<
    k = j
    while k > 0 and src[k - 1] in ' \t\n': k -= 1
    depth = 0
    while k > 0:
        c = src[k - 1]
        if c == '>': depth += 1
        elif c == '<': depth -= 1
        if depth == 0 and c in ';{}\n': break
        if depth == 0 and c == ':' and src[k - 2] != ':' and src[k] != ':': break
        k -= 1
    while src[k] in ' \t': k += 1
    # the kernel is the trailing name<targs>; anything before it ("else",
    # "if (c)") stays in front of the emulated launch
    expr = src[k:j].rstrip()
    m = len(expr)
    if expr.endswith('>'):
        d = 0
        while m > 0:
            m -= 1
            if expr[m] == '>': d += 1
            elif expr[m] == '<':
                d -= 1
                if d == 0: break
    while m > 0 and (expr[m - 1].isalnum() or expr[m - 1] in '_:'): m -= 1
    k += m
    kern = expr[m:].strip()
    e = src.find('>>>', j)
    cfg = src[j + 3:e]
    # args: balanced parens after >>>
    p = e + 3
    assert src[p] == '(', src[p:p+40]
    d = 0; q = p
    while True:
        if src[q] == '(': d += 1
        elif src[q] == ')':
            d -= 1
            if d == 0: break
        q += 1
    args = src[p + 1:q]
    parts = [x.strip() for x in re.split(r',(?![^()]*\))', cfg)]
    g, b = parts[0], parts[1]
    s = parts[2] if len(parts) > 2 else '0'
    out.append(src[i:k])
    out.append('pp_emu_launch(dim3(%s), dim3(%s), %s, [=]{ %s(%s); })' % (g, b, s, kern, args))
    i = q + 1
res = ''.join(out)
res = res.replace('extern __shared__ float smem[];', 'float *smem = (float *)pp_emu_smem();')
res = re.sub(r'__shared__ ', 'static ', res)
print('#include "emu.h"\n' + res)
