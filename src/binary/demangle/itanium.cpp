// Itanium C++ demangling with LLVM's own parser and printer (llvm/Demangle/ItaniumDemangle.h, the header-only
// library behind llvm-cxxfilt, llvm-nm -C and libc++abi's __cxa_demangle), so that our names read exactly as the
// LLVM tools print them. This file only drives it:
//
// - Nodes come from a per-thread bump arena that is rewound, not freed, between names: no allocation per node and,
//   once the arena and the output buffer have grown to the largest name seen, none per name.
// - Hostile names stay bounded. Parsing: the recursive productions (type, expression, encoding, name, template
//   argument[s]) share one depth counter (the caller bounds the length, which bounds the rest). Printing: a
//   substitution (`S_`, `T_`) prints a node once per reference and a pack expansion once per element, so a short
//   name can print an exponentially long result, and the printer recurses once per level of the tree. Before
//   printing a name with more than a few references or any expansion, one memoised walk over the tree bounds the
//   printed length and the depth; a name over either limit is not demangled.

#include "llvm/Demangle/ItaniumDemangle.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

using namespace llvm::itanium_demangle;

// The header declares this helper and leaves its definition to the library's .cpp. It skips a local entity's
// discriminator, which demangled names do not show:
//   <discriminator> ::= _ <digit>  |  __ <number> _      (and, as an extension, trailing digits at the very end)
const char *llvm::itanium_demangle::parse_discriminator(const char *First, const char *Last) {
  auto IsDigit = [](char C) { return C >= '0' && C <= '9'; };
  if (First == Last)
    return First;
  if (*First == '_') {
    const char *P = First + 1;
    if (P == Last)
      return First;
    if (IsDigit(*P))
      return P + 1;
    if (*P != '_')
      return First;
    for (++P; P != Last && IsDigit(*P); ++P)
      ;
    return (P != Last && *P == '_') ? P + 1 : First;
  }
  if (IsDigit(*First)) {
    const char *P = First + 1;
    while (P != Last && IsDigit(*P))
      ++P;
    return P == Last ? Last : First;
  }
  return First;
}

namespace {

/// Deepest nesting of recursive productions the parser may enter.
constexpr unsigned kMaxParseDepth = 512;
/// Deepest tree the printer may walk.
constexpr uint32_t kMaxTreeDepth = 1024;
/// Longest result (an upper bound computed before printing), in bytes.
constexpr uint64_t kMaxOutput = 1u << 20;

/// Memo the walk keeps for each node.
struct NodeMemo {
  uint64_t Size;     // upper bound of the printed length
  uint32_t Depth;    // height of the subtree
  uint16_t MaxPack;  // largest parameter pack in the subtree (saturating)
  uint8_t State;     // 0 unvisited, 1 being walked, 2 done
};

class Arena {
  static constexpr size_t kBlock = 64 * 1024;
  char **Blocks = nullptr;
  size_t NumBlocks = 0, CapBlocks = 0, Cur = 0, Used = 0;
  void **Big = nullptr;
  size_t NumBig = 0, CapBig = 0;

  static bool push(void ***V, size_t *N, size_t *Cap, void *P) {
    if (*N == *Cap) {
      size_t NewCap = *Cap ? *Cap * 2 : 8;
      void **NewV = static_cast<void **>(std::realloc(*V, NewCap * sizeof(void *)));
      if (!NewV)
        return false;
      *V = NewV;
      *Cap = NewCap;
    }
    (*V)[(*N)++] = P;
    return true;
  }

public:
  void reset() {
    Cur = 0;
    Used = 0;
    for (size_t I = 0; I < NumBig; ++I)
      std::free(Big[I]);
    NumBig = 0;
  }

  void *allocate(size_t N) {
    N = (N + 15) & ~size_t(15);
    if (N > kBlock / 4) {
      void *P = std::malloc(N);
      if (!P || !push(&Big, &NumBig, &CapBig, P))
        std::terminate();
      return P;
    }
    if (NumBlocks == 0 || Used + N > kBlock) {
      if (NumBlocks != 0)
        ++Cur;
      if (Cur == NumBlocks) {
        void *B = std::malloc(kBlock);
        if (!B || !push(reinterpret_cast<void ***>(&Blocks), &NumBlocks, &CapBlocks, B))
          std::terminate();
      }
      Used = 0;
    }
    void *P = Blocks[Cur] + Used;
    Used += N;
    return P;
  }

  ~Arena() {
    reset();
    for (size_t I = 0; I < NumBlocks; ++I)
      std::free(Blocks[I]);
    std::free(Blocks);
    std::free(Big);
  }
};

thread_local Arena TheArena;

/// The allocator interface the parser expects, over this thread's arena (looked up once per name). It also counts
/// the pack expansions it makes, for [`needsBound`].
struct ArenaAlloc {
  Arena *A = &TheArena;
  unsigned Expansions = 0;
  size_t Nodes = 0;

  void reset() {
    A->reset();
    Expansions = 0;
    Nodes = 0;
  }

  template <class T, class... Args> T *makeNode(Args &&...args) {
    if constexpr (std::is_same<T, ParameterPackExpansion>::value)
      ++Expansions;
    ++Nodes;
    return new (A->allocate(sizeof(T))) T(std::forward<Args>(args)...);
  }

  void *allocateNodeArray(size_t Sz) { return A->allocate(sizeof(Node *) * Sz); }
};

/// The walk's memo, keyed by node address: open addressing, sized once per walk for every node of the parse (so
/// references into it stay valid while the walk recurses), reused across names.
class MemoTable {
  struct Slot {
    const Node *Key;
    NodeMemo Memo;
  };
  Slot *Slots = nullptr;
  size_t Cap = 0, Mask = 0;

public:
  bool reset(size_t Nodes) {
    size_t Want = 16;
    while (Want < 2 * Nodes)
      Want *= 2;
    if (Want > Cap) {
      std::free(Slots);
      Slots = static_cast<Slot *>(std::malloc(Want * sizeof(Slot)));
      Cap = Slots ? Want : 0;
      if (!Slots)
        return false;
    }
    Mask = Want - 1;
    std::memset(static_cast<void *>(Slots), 0, Want * sizeof(Slot));
    return true;
  }

  NodeMemo &get(const Node *N) {
    size_t H = (reinterpret_cast<uintptr_t>(N) >> 3) * 0x9E3779B97F4A7C15ull;
    for (size_t I = (H >> 20) & Mask;; I = (I + 1) & Mask) {
      if (Slots[I].Key == N)
        return Slots[I].Memo;
      if (Slots[I].Key == nullptr) {
        Slots[I].Key = N;
        return Slots[I].Memo;
      }
    }
  }

  ~MemoTable() { std::free(Slots); }
};

thread_local MemoTable TheMemo;

/// LLVM's parser with a shared depth limit on its recursive productions.
struct BoundedParser : AbstractManglingParser<BoundedParser, ArenaAlloc> {
  using Base = AbstractManglingParser<BoundedParser, ArenaAlloc>;
  using Base::Base;

  unsigned Depth = 0;
  /// Substitutions (`S_`, `S0_`, …) and template parameters (`T_`, …) resolved: each prints a node again.
  unsigned Refs = 0;

  struct Enter {
    BoundedParser &P;
    bool Ok;
    explicit Enter(BoundedParser &P_) : P(P_), Ok(++P_.Depth <= kMaxParseDepth) {}
    ~Enter() { --P.Depth; }
  };

  Node *parseType() {
    Enter E(*this);
    return E.Ok ? Base::parseType() : nullptr;
  }
  Node *parseExpr() {
    Enter E(*this);
    return E.Ok ? Base::parseExpr() : nullptr;
  }
  Node *parseEncoding() {
    Enter E(*this);
    return E.Ok ? Base::parseEncoding() : nullptr;
  }
  Node *parseName(NameState *State = nullptr) {
    Enter E(*this);
    return E.Ok ? Base::parseName(State) : nullptr;
  }
  Node *parseTemplateArg() {
    Enter E(*this);
    return E.Ok ? Base::parseTemplateArg() : nullptr;
  }
  Node *parseTemplateArgs(bool TagTemplates = false) {
    Enter E(*this);
    return E.Ok ? Base::parseTemplateArgs(TagTemplates) : nullptr;
  }
  Node *parseSubstitution() {
    Node *N = Base::parseSubstitution();
    if (N != nullptr && N->getKind() != Node::KSpecialSubstitution)
      ++Refs;
    return N;
  }
  Node *parseTemplateParam() {
    Node *N = Base::parseTemplateParam();
    if (N != nullptr)
      ++Refs;
    return N;
  }
};

/// Names up to this length print at most this many times their tree's own text without the walk (below), as long
/// as they resolve few references and expand no pack; the recursion of the printer over such a tree is bounded by
/// the length too (the caller runs longer names on a large stack).
constexpr size_t kUnboundedMaxLen = 4096;
constexpr unsigned kUnboundedMaxRefs = 4;

/// Whether the printed length needs the bounding walk: each resolved reference may double it (2^4 = 16 times at
/// most here) and a pack expansion multiplies its pattern by the pack's length.
bool needsBound(const BoundedParser &P, size_t Len) {
  return Len > kUnboundedMaxLen || P.Refs > kUnboundedMaxRefs || P.ASTAllocator.Expansions != 0;
}

uint64_t satAdd(uint64_t A, uint64_t B) { return A + B < A ? UINT64_MAX : A + B; }
uint64_t satMul(uint64_t A, uint64_t B) {
  return (A != 0 && B > UINT64_MAX / A) ? UINT64_MAX : A * B;
}

/// The bounding walk: printed length (upper bound), height and largest pack of every node, memoised.
struct Bound {
  MemoTable &Memo;
  uint32_t Level = 0;
  bool Over = false;

  struct Acc {
    Bound &B;
    uint64_t Size = 32;  // punctuation, keywords, qualifiers and numbers a node prints besides its children
    uint32_t Depth = 0;
    uint32_t MaxPack = 0;
    uint32_t PackLen = 0;  // this node's own length when it is a parameter pack

    void child(const Node *N) {
      if (!N)
        return;
      const NodeMemo &M = B.walk(N);
      Size = satAdd(Size, M.Size);
      if (M.Depth > Depth)
        Depth = M.Depth;
      if (M.MaxPack > MaxPack)
        MaxPack = M.MaxPack;
    }

    template <class T> void one(const T &V) {
      if constexpr (std::is_convertible<T, const Node *>::value) {
        child(static_cast<const Node *>(V));
      } else if constexpr (std::is_same<T, NodeArray>::value) {
        for (const Node *N : V) {
          Size = satAdd(Size, 2);
          child(N);
        }
      } else if constexpr (std::is_same<T, StringView>::value) {
        Size = satAdd(Size, V.size());
      }
    }

    template <class... Ts> void operator()(const Ts &...Vs) {
      int Unused[] = {0, (one(Vs), 0)...};
      (void)Unused;
    }
  };

  /// `match` and `visit` take their functor by value: this one forwards to an accumulator that stays put.
  struct AccRef {
    Acc *A;
    template <class... Ts> void operator()(const Ts &...Vs) { (*A)(Vs...); }
  };

  struct Dispatch {
    Acc *A;
    void operator()(const ForwardTemplateReference *F) { A->child(F->Ref); }
    template <class T> void operator()(const T *N) {
      if constexpr (std::is_same<T, ParameterPack>::value)
        N->match([this](NodeArray Data) {
          A->PackLen = Data.size() > 0xffff ? 0xffff : static_cast<uint32_t>(Data.size());
        });
      N->match(AccRef{A});
    }
  };

  const NodeMemo &walk(const Node *N) {
    NodeMemo &M = Memo.get(N);
    if (M.State != 0)  // done, or a cycle through a forward reference (printed once, then cut)
      return M;
    M.State = 1;
    if (++Level > kMaxTreeDepth) {
      Over = true;
      M.Size = UINT64_MAX;
      M.Depth = kMaxTreeDepth + 1;
    } else {
      Acc A{*this};
      N->visit(Dispatch{&A});
      uint64_t Size = A.Size;
      uint32_t MaxPack = A.PackLen > A.MaxPack ? A.PackLen : A.MaxPack;
      // An expansion prints its pattern once per element of the pack it expands.
      if (N->getKind() == Node::KParameterPackExpansion)
        Size = satMul(Size, MaxPack > 0 ? MaxPack : 1);
      M.Size = Size;
      M.Depth = A.Depth + 1;
      M.MaxPack = static_cast<uint16_t>(MaxPack > 0xffff ? 0xffff : MaxPack);
      if (M.Size > kMaxOutput || M.Depth > kMaxTreeDepth)
        Over = true;
    }
    --Level;
    M.State = 2;
    return M;
  }
};

thread_local char *OutBuf = nullptr;
thread_local size_t OutCap = 0;

}  // namespace

/// Demangle the Itanium name `Name[0..Len)` as llvm-cxxfilt does. On success returns 1 and points `*Out`/`*OutLen`
/// at the result, which stays valid until the next call on the same thread; returns 0 when the name is not a valid
/// mangling or exceeds the limits above.
extern "C" int ffi_doctor_itanium_demangle(const char *Name, size_t Len, const char **Out, size_t *OutLen) {
  BoundedParser Parser(Name, Name + Len);
  Parser.reset(Name, Name + Len);
  Node *AST = Parser.parse();
  if (AST == nullptr || !Parser.ForwardTemplateRefs.empty())
    return 0;
  if (needsBound(Parser, Len)) {
    if (!TheMemo.reset(Parser.ASTAllocator.Nodes))
      return 0;
    Bound B{TheMemo};
    B.walk(AST);
    if (B.Over)
      return 0;
  }
  if (OutBuf == nullptr) {
    OutBuf = static_cast<char *>(std::malloc(1024));
    if (OutBuf == nullptr)
      return 0;
    OutCap = 1024;
  }
  OutputBuffer OB(OutBuf, OutCap);
  AST->print(OB);
  OutBuf = OB.getBuffer();
  OutCap = OB.getBufferCapacity();
  *Out = OutBuf;
  *OutLen = OB.getCurrentPosition();
  return 1;
}
