"""The findings tree model and its proxy: structure, qtmodeltester, sorting, filtering, batches."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QModelRoleData, QSortFilterProxyModel, Qt
from pytestqt.modeltest import ModelTester

from tests.ui.synthetic import SPECS, finding, many_findings
from workbench.core.model import Category, Level
from workbench.ui.models.findings_model import (
    Column,
    FindingFilter,
    FindingRole,
    FindingsModel,
    FindingsProxyModel,
    NodeKind,
    NodeKindRole,
)

FINDINGS = (
    finding("rls_disabled_in_public", "orders"),
    finding("rls_disabled_in_public", "customers"),
    finding("unindexed_foreign_keys", "order_lines", detail="Foreign key order_lines_order_id_fkey has no index."),
    finding("duplicate_index", "orders", schema="app"),
    finding("missing_primary_key", "events", level=Level.ERROR),
)


def model_and_proxy(findings=FINDINGS) -> tuple[FindingsModel, FindingsProxyModel]:
    model = FindingsModel(SPECS)
    model.set_findings(findings)
    proxy = FindingsProxyModel()
    proxy.setSourceModel(model)
    return model, proxy


def labels(model: QSortFilterProxyModel | FindingsModel, parent: QModelIndex = QModelIndex(), column: int = 0):  # noqa: B008
    return [model.index(r, column, parent).data() for r in range(model.rowCount(parent))]


def test_tree_is_category_then_check_then_object() -> None:
    model, _ = model_and_proxy()
    assert labels(model) == ["Security  (2)", "Performance  (2)", "Integrity  (1)"]
    security = model.index(0, 0)
    assert NodeKind(security.data(NodeKindRole)) is NodeKind.CATEGORY
    check = model.index(0, 0, security)
    assert check.data() == "RLS disabled in public  (2)"
    assert NodeKind(check.data(NodeKindRole)) is NodeKind.CHECK
    assert labels(model, check) == ["public.customers", "public.orders"]
    leaf = model.index(0, 0, check)
    assert leaf.data(FindingRole).key == "public.customers"
    assert model.index(0, Column.LEVEL, check).data() == "Error"
    assert model.index(0, Column.CHECK, check).data() == "rls_disabled_in_public"
    assert model.index(0, Column.WHERE, check).data() == "public"
    assert "is affected" in model.index(0, Column.DETAIL, check).data()
    # The integrity group carries the highest level of its findings (an error raised above the spec's warn).
    assert model.index(2, Column.LEVEL).data() == "Error"


def test_qtmodeltester_on_model_and_proxy(qtmodeltester: ModelTester) -> None:
    model, proxy = model_and_proxy()
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)


def test_qtmodeltester_while_batches_arrive_sorted_and_filtered(qtmodeltester: ModelTester) -> None:
    model = FindingsModel(SPECS)
    proxy = FindingsProxyModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)  # keeps checking on every signal from here on
    proxy.sort(Column.OBJECT, Qt.SortOrder.DescendingOrder)
    proxy.set_filter(FindingFilter(text="order"))
    for batch in (FINDINGS[:2], FINDINGS[2:3], FINDINGS[3:], many_findings(40)):
        model.add_findings(batch)
    assert model.finding_count == len(FINDINGS) + 40
    proxy.set_filter(FindingFilter())
    proxy.sort(Column.LEVEL, Qt.SortOrder.AscendingOrder)
    model.clear()
    assert proxy.rowCount() == 0


def test_batches_keep_the_current_sort() -> None:
    model = FindingsModel(SPECS)
    proxy = FindingsProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(Column.OBJECT, Qt.SortOrder.AscendingOrder)
    model.add_findings((finding("rls_disabled_in_public", "zebra"),))
    model.add_findings((finding("rls_disabled_in_public", "alpha"), finding("unindexed_foreign_keys", "b")))
    assert labels(proxy) == ["Performance  (1)", "Security  (2)"]
    check = proxy.index(0, 0, proxy.index(1, 0))
    assert labels(proxy, check) == ["public.alpha", "public.zebra"]


def test_sorting_through_the_proxy_on_every_column() -> None:
    model, proxy = model_and_proxy()
    proxy.sort(Column.OBJECT, Qt.SortOrder.AscendingOrder)
    assert labels(proxy) == ["Integrity  (1)", "Performance  (2)", "Security  (2)"]
    proxy.sort(Column.OBJECT, Qt.SortOrder.DescendingOrder)
    assert labels(proxy) == ["Security  (2)", "Performance  (2)", "Integrity  (1)"]
    proxy.sort(Column.LEVEL, Qt.SortOrder.DescendingOrder)
    performance = next(proxy.index(r, 0) for r in range(3) if proxy.index(r, 0).data().startswith("Performance"))
    assert labels(proxy, performance, Column.LEVEL) == ["Warning", "Info"]
    proxy.sort(Column.LEVEL, Qt.SortOrder.AscendingOrder)
    performance = next(proxy.index(r, 0) for r in range(3) if proxy.index(r, 0).data().startswith("Performance"))
    assert labels(proxy, performance, Column.LEVEL) == ["Info", "Warning"]
    proxy.sort(Column.CHECK, Qt.SortOrder.AscendingOrder)
    performance = next(proxy.index(r, 0) for r in range(3) if proxy.index(r, 0).data().startswith("Performance"))
    assert labels(proxy, performance, Column.CHECK) == ["duplicate_index", "unindexed_foreign_keys"]
    proxy.sort(Column.WHERE, Qt.SortOrder.DescendingOrder)
    proxy.sort(Column.DETAIL, Qt.SortOrder.DescendingOrder)
    security = next(proxy.index(r, 0) for r in range(3) if proxy.index(r, 0).data().startswith("Security"))
    check = proxy.index(0, 0, security)  # indexes are only valid until the next layout change
    assert labels(proxy, check, Column.DETAIL) == sorted(labels(proxy, check, Column.DETAIL), reverse=True)
    assert model.sort_state == (Column.DETAIL, Qt.SortOrder.DescendingOrder)


def test_sorting_keeps_the_selection_anchor() -> None:
    model, proxy = model_and_proxy()
    check = model.index(0, 0, model.index(0, 0))
    from PySide6.QtCore import QPersistentModelIndex

    anchor = QPersistentModelIndex(model.index(1, 0, check))
    key = anchor.data(FindingRole).key
    proxy.sort(Column.OBJECT, Qt.SortOrder.DescendingOrder)
    assert anchor.isValid() and anchor.data(FindingRole).key == key


def test_filter_by_text_level_and_category() -> None:
    model, proxy = model_and_proxy()
    proxy.set_filter(FindingFilter(text="ORDER"))
    assert labels(proxy) == ["Security  (1 of 2)", "Performance  (2)"]
    proxy.set_filter(FindingFilter(text="order fkey"))  # every word must match
    assert labels(proxy) == ["Performance  (1 of 2)"]
    assert labels(proxy, proxy.index(0, 0, proxy.index(0, 0))) == ["public.order_lines"]
    proxy.set_filter(FindingFilter(levels=frozenset({Level.ERROR})))
    assert labels(proxy) == ["Security  (2)", "Integrity  (1)"]
    proxy.set_filter(FindingFilter(categories=frozenset({Category.PERFORMANCE})))
    assert labels(proxy) == ["Performance  (2)"]
    proxy.set_filter(FindingFilter(text="no such thing"))
    assert proxy.rowCount() == 0
    proxy.set_filter(FindingFilter())
    assert proxy.rowCount() == 3
    assert len(model.visible_findings()) == len(FINDINGS)


def test_new_batches_respect_the_filter() -> None:
    model = FindingsModel(SPECS)
    proxy = FindingsProxyModel()
    proxy.setSourceModel(model)
    proxy.set_filter(FindingFilter(levels=frozenset({Level.WARN})))
    model.add_findings(FINDINGS)
    assert labels(proxy) == ["Performance  (1 of 2)"]
    assert model.findings_under(model.index(1, 0)) == (FINDINGS[3],)


def test_group_rows_describe_their_check() -> None:
    model, _ = model_and_proxy()
    check = model.index(0, Column.DETAIL, model.index(0, 0))
    assert check.data() == SPECS["rls_disabled_in_public"].description


DELEGATE_ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.CheckStateRole,
    FindingRole,
)


def _all_indexes(model: QSortFilterProxyModel, parent: QModelIndex = QModelIndex()):  # noqa: B008
    for row in range(model.rowCount(parent)):
        for column in range(model.columnCount(parent)):
            index = model.index(row, column, parent)
            yield index
            if column == 0:
                yield from _all_indexes(model, index)


def test_a_cell_painted_in_one_call_shows_what_data_shows() -> None:
    """The tree's delegate asks for every role of a cell at once (multiData, answered by the proxy in one call
    into Python): texts, icons, fonts and tooltips must be exactly those of data(), sorted and filtered."""
    model, proxy = model_and_proxy((*FINDINGS, *many_findings(30)))
    proxy.sort(Column.WHERE, Qt.SortOrder.DescendingOrder)
    proxy.set_filter(FindingFilter(text="public"))
    cells = list(_all_indexes(proxy))
    assert len(cells) > 6 * 30
    for index in cells:
        span = [QModelRoleData(int(role)) for role in DELEGATE_ROLES]
        proxy.multiData(index, span)
        for role, got in zip(DELEGATE_ROLES, span, strict=True):
            expected = index.data(role)
            if role == Qt.ItemDataRole.DecorationRole and expected is not None:
                assert got.data().cacheKey() == expected.cacheKey()
            else:
                assert got.data() == expected, (index.row(), index.column(), role)
        assert proxy.flags(index) == model.flags(proxy.mapToSource(index))
    assert {index.data() for index in cells if index.column() == Column.LEVEL} >= {"Error", "Warning"}
