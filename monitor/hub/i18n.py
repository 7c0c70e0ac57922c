"""The hub dashboard's words in Vietnamese and English (a few dozen; the site UI's catalogue is not needed here)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {  # key: (vi, en)
    "title": ("Trung tâm huyện · Bộ phận một cửa", "District hub · one-stop offices"),
    "sites": ("Các xã", "Sites"),
    "site": ("Xã", "Site"),
    "state": ("Trạng thái", "State"),
    "online": ("trực tuyến", "online"),
    "offline": ("mất kết nối", "offline"),
    "last_data": ("Dữ liệu mới nhất", "Last data"),
    "cameras_down": ("Camera hỏng", "Cameras down"),
    "open_alerts": ("Cảnh báo mở", "Open alerts"),
    "today": ("Hôm nay", "Today"),
    "period": ("Khoảng thời gian", "Period"),
    "from": ("Từ", "From"),
    "to": ("Đến", "To"),
    "target": ("Mục tiêu chờ (phút)", "Wait target (min)"),
    "show": ("Xem", "Show"),
    "served": ("Lượt phục vụ", "Served"),
    "mean_wait": ("Chờ TB", "Mean wait"),
    "p90_wait": ("Chờ P90", "P90 wait"),
    "over_target": ("Chờ quá mục tiêu", "Over target"),
    "service_time": ("Thời gian phục vụ TB", "Mean service time"),
    "absence": ("Vắng mặt (phút)", "Absence (min)"),
    "counter": ("Quầy", "Counter"),
    "days": ("Số ngày", "Days"),
    "ranking": ("Xếp hạng tuần", "Weekly ranking"),
    "rank": ("Hạng", "Rank"),
    "week_of": ("Tuần có ngày", "Week of"),
    "open_site_ui": ("Mở giao diện của xã", "Open the site's own UI"),
    "export_csv": ("Xuất CSV", "Export CSV"),
    "export_html": ("Xuất HTML", "Export HTML"),
    "no_data": ("Chưa có dữ liệu", "No data yet"),
    "login": ("Đăng nhập", "Log in"),
    "logout": ("Đăng xuất", "Log out"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "too_many": ("Quá nhiều lần thử; hãy đợi rồi thử lại.", "Too many attempts; wait and try again."),
    "bad_request": ("Yêu cầu không hợp lệ", "Bad request"),
    "not_found": ("Không tìm thấy", "Not found"),
    "back": ("Quay lại", "Back"),
}
LANGUAGES = ("vi", "en")


def word(key: str, language: str) -> str:
    """The word for key in the language (vi or en); the key itself when unknown."""
    pair = WORDS.get(key)
    return key if pair is None else pair[LANGUAGES.index(language) if language in LANGUAGES else 0]
